"""Allies' availability: their own time zone, working hours and days, a cap on open questions
and a pause; and working time shared by several allies (a topic is "on duty" while at least one
of its allies is inside their own working hours), which the SLA clocks and escalations run on.

Built on bot/calendar.py's WorkingHours (its public methods only), so daylight-saving changes
and date-line zones behave as the calendar defines."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import calendar
from bot.errors import UsageError

DEFAULT_START = time(9, 0)
DEFAULT_END = time(17, 30)
DEFAULT_MAX_OPEN = 3
MAX_OPEN_LIMIT = 50
MAX_PAUSE = timedelta(days=366)
_SEGMENTS_MAX = 2000  # a bound on the loops below; a year of daily windows is far fewer


@dataclass(frozen=True, slots=True)
class Availability:
    tz: ZoneInfo
    tz_overridden: bool
    start: time = DEFAULT_START
    end: time = DEFAULT_END
    days: frozenset[int] = calendar.WEEKDAYS
    max_open: int = DEFAULT_MAX_OPEN
    paused_until: datetime | None = None
    hours: calendar.WorkingHours = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Built once: ranking asks it of every candidate (equal hours compare equal, so the
        # ranking's memo of who is working shares the answer between people).
        hours = calendar.WorkingHours(self.tz, self.start, self.end, self.days)
        object.__setattr__(self, "hours", hours)

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def on_duty(self, now: datetime) -> bool:
        """Inside their working hours and not paused (the cap and presence are separate)."""
        return not self.paused(now) and self.hours.is_working(now)

    def next_on_duty(self, now: datetime) -> datetime:
        """When they are next on duty: now, or their next working start after any pause."""
        after = max(now, self.paused_until) if self.paused_until else now
        return self.hours.next_start(after).astimezone(UTC)


class AllyRow(Protocol):
    """A person's stored overrides (RoutingAlly, or the same columns read as plain values)."""

    @property
    def tz(self) -> str | None: ...
    @property
    def hours(self) -> str | None: ...
    @property
    def days(self) -> str | None: ...
    @property
    def max_open(self) -> int | None: ...
    @property
    def paused_until(self) -> datetime | None: ...


def of(profile_tz: ZoneInfo, row: AllyRow | None) -> Availability:
    """A person's availability: the platform profile's zone unless they chose one, and the
    defaults for everything they did not change."""
    if row is None:
        return Availability(tz=profile_tz, tz_overridden=False)
    tz = calendar.zone(row.tz, profile_tz.key) if row.tz else profile_tz
    start, end = DEFAULT_START, DEFAULT_END
    if row.hours:
        # Stored by us, so always valid; the defaults are the safe reading if not.
        with contextlib.suppress(ValueError):
            start, end = calendar.parse_hours(row.hours)
    days = calendar.WEEKDAYS
    if row.days:
        days = frozenset(int(d) for d in row.days.split(",") if d.strip().isdigit()) or days
    return Availability(
        tz=tz,
        tz_overridden=bool(row.tz),
        start=start,
        end=end,
        days=days,
        max_open=row.max_open if row.max_open is not None else DEFAULT_MAX_OPEN,
        paused_until=row.paused_until,
    )


# ----- time on duty, for several allies at once -------------------------------------------------


def _segments(
    hours: list[calendar.WorkingHours], start: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Maximal spans from `start` on during which at least one of `hours` is working (UTC)."""
    at = start.astimezone(UTC)
    for _ in range(_SEGMENTS_MAX):
        opens = min(h.next_start(at).astimezone(UTC) for h in hours)
        closes = opens
        while True:  # overlapping windows of others extend the span
            ends = [e for h in hours if (e := h.window_end(closes)) is not None]
            if not ends:
                break
            closes = max(e.astimezone(UTC) for e in ends)
        yield opens, closes
        at = closes
    raise AssertionError("working windows did not advance")  # unreachable with valid hours


def distinct(hours: Iterable[calendar.WorkingHours]) -> list[calendar.WorkingHours]:
    return list(dict.fromkeys(hours))


def minutes_between(
    hours: Iterable[calendar.WorkingHours], start: datetime, end: datetime
) -> float:
    """Minutes in [start, end) during which at least one of `hours` is working."""
    unique = distinct(hours)
    if not unique or end <= start:
        return 0.0
    hi = end.astimezone(UTC)
    total = timedelta()
    for opens, closes in _segments(unique, start):
        if opens >= hi:
            break
        total += min(closes, hi) - max(opens, start.astimezone(UTC))
    return total / timedelta(minutes=1)


def add_minutes(
    hours: Iterable[calendar.WorkingHours], start: datetime, minutes: float
) -> datetime:
    """The instant by which `minutes` of shared working time have passed since `start`
    (with nobody's hours known, wall minutes)."""
    unique = distinct(hours)
    if not unique:
        return start + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    at = start.astimezone(UTC)
    for opens, closes in _segments(unique, at):
        begin = max(opens, at)
        if closes - begin >= left:
            return begin + left
        left -= closes - begin
    raise AssertionError("unreachable")


# ----- parsing ------------------------------------------------------------------------------

_DURATION = re.compile(
    r"(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?", re.ASCII
)
DURATION_HINT = "a number with w, d, h or m, e.g. 3d, 1h or 1h30m"


def parse_duration(text: str, what: str = "duration") -> timedelta:
    value = text.strip().lower()
    match = _DURATION.fullmatch(value)
    if not value or match is None or not any(match.groups()):
        raise UsageError(f"“{text.strip()}” is not a {what}; expected {DURATION_HINT}.")
    if any(g and len(g) > 6 for g in match.groups()):
        raise UsageError(f"“{text.strip()}” is far too long a {what}; expected {DURATION_HINT}.")
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    if span <= timedelta():
        raise UsageError(f"A {what} must be longer than zero; expected {DURATION_HINT}.")
    return span


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"“{text.strip()}” is not a date; expected YYYY-MM-DD, e.g. until 2027-01-04."
        ) from None


def describe(av: Availability, now: datetime) -> str:
    hours = calendar.format_hours(av.start, av.end)
    days = calendar.format_days(av.days)
    zone = av.tz.key + ("" if av.tz_overridden else " (from your profile)")
    parts = [f"{days} {hours}, {zone}", f"at most {av.max_open} open questions"]
    if av.paused(now):
        assert av.paused_until is not None
        parts.append(f"paused until {av.paused_until.astimezone(av.tz):%a %d %b %H:%M}")
    state = "on duty now" if av.on_duty(now) else "off duty now"
    return "; ".join(parts) + f" ({state})"
