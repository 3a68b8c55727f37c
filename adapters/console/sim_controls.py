"""Console controls for time, presence and threads: what a demo needs to show routing at work.

`:clock +45m` moves the simulated time on (the jobs that fall due run at once), `:clock at
2026-12-07 09:00 Europe/Paris` jumps to a moment, `:reply N TEXT` answers in message N's thread,
`:dnd NAME on|off` and `:status NAME TEXT|off` set what the platform would say about someone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.console import world
from bot.clock import ManualClock, ShiftedClock
from bot.events import MessagePosted
from bot.ids import MessageRef
from bot.ports import Presence
from store import console as sim

if TYPE_CHECKING:
    from adapters.console.app import ConsoleSession

VERBS = ("clock", "reply", "dnd", "status")
HELP = """\
  :clock [+45m|+2h|+1d|at YYYY-MM-DD HH:MM [ZONE]]   show or move the simulated time
  :reply N TEXT              answer in the thread of message N
  :dnd NAME on|off           put someone in Do Not Disturb, or take them out
  :status NAME TEXT|off      set someone's status line (e.g. "Out of office")"""

_STEP = re.compile(r"([0-9]+)([dhm])")  # ASCII digits only, not other scripts' digits
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_step(text: str) -> timedelta | None:
    """`+45m`, `+2h`, `+1d`, `+1h30m` -> a timedelta; None when it isn't one of those."""
    body = text.removeprefix("+")
    if not body or _STEP.sub("", body):
        return None
    delta = timedelta()
    for amount, unit in _STEP.findall(body):
        delta += timedelta(**{_UNITS[unit]: int(amount)})
    return delta if delta > timedelta() else None


def parse_moment(words: list[str]) -> datetime | None:
    """`2026-12-07 09:00 [Europe/Paris]` -> an aware datetime (UTC when no zone is given)."""
    if len(words) not in (2, 3):
        return None
    try:
        zone = ZoneInfo(words[2]) if len(words) == 3 else ZoneInfo("UTC")
        local = datetime.strptime(f"{words[0]} {words[1]}", "%Y-%m-%d %H:%M")
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return local.replace(tzinfo=zone)


async def control(session: ConsoleSession, verb: str, args: list[str]) -> None:
    if verb == "clock":
        _clock(session, args)
    elif verb == "reply":
        await _reply(session, args)
    else:
        _presence(session, verb, args)


def _clock(session: ConsoleSession, args: list[str]) -> None:
    clock = session.clock
    if args:
        if not isinstance(clock, ShiftedClock | ManualClock):
            session.out("  This console's clock can't be moved.")
            return
        if args[0] == "at":
            when = parse_moment(args[1:])
            if when is None:
                session.out(
                    "  Usage: :clock at YYYY-MM-DD HH:MM [ZONE] (e.g. :clock at 2026-12-07 09:00"
                    " Europe/Paris)"
                )
                return
            clock.set(when)
        else:
            step = parse_step(args[0])
            if step is None:
                session.out(f"  '{args[0]}' is not a step of time: use +45m, +2h, +1d or +1h30m.")
                return
            clock.advance(step)
    now = clock.now()
    person = world.PEOPLE[session.me]
    local = now.astimezone(ZoneInfo(person.tz))
    session.out(
        f"  It is {now:%a %d %b %H:%M} UTC ({local:%a %H:%M} for {person.name}, {person.tz})."
    )


async def _reply(session: ConsoleSession, args: list[str]) -> None:
    if len(args) < 2:
        session.out("  Usage: :reply N TEXT (e.g. :reply 3 Try restarting the VPN client)")
        return
    found = await session.find_message(args[0])
    if found is None:
        return
    parent, _author = found
    text = " ".join(args[1:])
    async with session.db.transaction() as tx:
        channel = await sim.ensure_channel(
            tx, session.workspace_id(), parent.conversation.id, is_direct=False
        )
        row = await sim.post(tx, channel.id, session.me, text, session.clock.now())
    session.out(
        f"  [#{parent.conversation.id}, thread of #{parent.id}] #{row.id} {session.me}: {text}"
    )
    await session.dispatch(
        MessagePosted(
            **session.event_base(),
            message=MessageRef(parent.conversation, str(row.id), thread_id=parent.id),
            text=session.mention_tokens(text),
        )
    )


def _presence(session: ConsoleSession, verb: str, args: list[str]) -> None:
    handle = args[0].lstrip("@").lower() if args else ""
    if handle not in world.PEOPLE or len(args) < 2:
        usage = ":dnd NAME on|off" if verb == "dnd" else ':status NAME "Out of office"|off'
        session.out(f"  Usage: {usage} (:people lists the names)")
        return
    now = session.presence.get(handle, Presence())
    if verb == "dnd":
        if args[1] not in ("on", "off"):
            session.out("  Usage: :dnd NAME on|off")
            return
        session.presence[handle] = Presence(
            do_not_disturb=args[1] == "on", status_text=now.status_text
        )
        state = "in Do Not Disturb" if args[1] == "on" else "out of Do Not Disturb"
        session.out(f"  {world.PEOPLE[handle].name} is now {state}.")
        return
    text = "" if args[1:] == ["off"] else " ".join(args[1:])
    session.presence[handle] = Presence(do_not_disturb=now.do_not_disturb, status_text=text)
    shown = f"“{text}”" if text else "cleared"
    session.out(f"  {world.PEOPLE[handle].name}'s status: {shown}.")
