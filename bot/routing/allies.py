"""`availability`: an ally's own zone, working hours and days, cap on open questions, and
pause (how people protect themselves from a 24/7 expectation)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import calendar
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.messages import Message, Reply, rich
from bot.routing import availability
from bot.routing.context import Context
from bot.work import Work
from store import routing as store

USAGE = (
    "[hours HH:MM-HH:MM | days mon-fri | tz ZONE|profile | max N | pause 3d|until YYYY-MM-DD | "
    "resume]"
)
EXAMPLES = ("availability hours 08:00-16:00", "availability pause 3d")


class Allies:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.s

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        field, _, value = args.strip().partition(" ")
        field, value = field.lower(), value.strip()
        if field not in ("", "show", "hours", "days", "tz", "timezone", "max", "pause", "resume"):
            raise UsageError(f"Usage: availability {USAGE}\nExample: {EXAMPLES[0]}")

        async def apply(work: Work) -> str:
            person = await work.person(event.actor, event.actor_profile)
            before = await self.ctx.availability_of(work, person.member_id, person.tz.key)
            change = _parse(field, value, work.now, before.tz)
            if change is not None:
                row = await store.ally_row(work.session, work.ws_id, person.member_id, work.now)
                for name, new in change.items():
                    setattr(row, name, new)
            av = await self.ctx.availability_of(work, person.member_id, person.tz.key)
            return (
                ("Saved. " if change is not None else "")
                + "Your availability: "
                + availability.describe(av, work.now)
                + "."
            )

        return Reply(message=Message(text=rich(await self.s.run(event, apply))))


def _parse(field: str, value: str, now: datetime, tz: ZoneInfo) -> dict[str, object] | None:
    """The columns to change, or None to only show; bad input raises with the expected form."""
    match field:
        case "" | "show":
            return None
        case "hours":
            try:
                start, end = calendar.parse_hours(value)
            except ValueError as exc:
                raise UsageError(f"{exc}. Example: availability hours 08:00-16:00") from None
            return {"hours": calendar.format_hours(start, end)}
        case "days":
            try:
                days = calendar.parse_days(value)
            except ValueError as exc:
                raise UsageError(f"{exc}. Example: availability days mon-thu") from None
            return {"days": ",".join(str(d) for d in sorted(days))}
        case "tz" | "timezone":
            if value.lower() in ("profile", "default", "auto"):
                return {"tz": None}
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise UsageError(
                    f"“{value}” is not a time zone; expected an IANA name like Europe/Berlin or "
                    "America/New_York (or profile, to follow your platform profile)."
                ) from None
            return {"tz": value}
        case "max":
            if (
                not (value.isascii() and value.isdigit())
                or not 1 <= int(value) <= availability.MAX_OPEN_LIMIT
            ):
                raise UsageError(
                    f"“{value}” is not a cap; expected a whole number of open questions from 1 to "
                    f"{availability.MAX_OPEN_LIMIT}, e.g. availability max 2"
                )
            return {"max_open": int(value)}
        case "pause":
            return {"paused_until": _pause_until(value, now, tz)}
        case "resume":
            return {"paused_until": None}
    raise AssertionError(field)


def _pause_until(value: str, now: datetime, tz: ZoneInfo) -> datetime:
    if not value:
        raise UsageError(
            "Say for how long: availability pause 3d (w, d, h or m), or until a date: "
            "availability pause until 2027-01-04"
        )
    words = value.split()
    if words[0].lower() == "until":
        if len(words) != 2:
            raise UsageError("Give one date: availability pause until 2027-01-04")
        day = availability.parse_date(words[1])
        # Back on that day: paused until its local midnight, in their own zone.
        until = calendar.day_start(datetime.combine(day, time(12), tzinfo=tz), tz).astimezone(UTC)
    else:
        until = now + availability.parse_duration(value, "pause duration")
    if until <= now:
        raise UsageError(
            "That is in the past; pause until a later date, e.g. availability pause 3d"
        )
    if until - now > availability.MAX_PAUSE:
        raise UsageError("Pauses are at most a year; resume any time with availability resume.")
    return until
