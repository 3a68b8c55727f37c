"""A person's consent: `nudges on|off`, the kinds they want, their cap, pauses and snoozes, and
`nudges` (what they will get and when). The Snooze and Stop buttons land here too."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot import calendar
from bot.args import whole_number
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import ActionPressed, Event
from bot.messages import Button, Card, Message, Reply, Section, rich
from bot.nudges import guardrails, sources
from bot.nudges import messages as say
from bot.nudges.campaigns import Campaigns, kinds_of
from bot.nudges.guardrails import KINDS
from bot.services import Services
from bot.work import Work
from store import nudges as store
from store.models import Nudge, NudgePrefs

MAX_PAUSE_DAYS = 366
_SPAN = re.compile(r"([0-9]{1,3})\s*(d|day|days|w|week|weeks)")
_KIND_WORDS = {k: k for k in KINDS} | {k.rstrip("s"): k for k in KINDS} | {"check-ins": "checkins"}
SPAN_HINT = "a number of days or weeks, e.g. 3d or 2w"


def parse_span(text: str, usage: str) -> timedelta:
    value = text.strip().lower()
    if not value:
        raise UsageError(f"Say for how long: {SPAN_HINT}.\n{usage}")
    match = _SPAN.fullmatch(value)
    if match is None:
        raise UsageError(f"“{text.strip()}” isn't a duration; expected {SPAN_HINT}.\n{usage}")
    n = whole_number(match.group(1), 1, MAX_PAUSE_DAYS, what="The number of days or weeks")
    span = timedelta(weeks=n) if match.group(2).startswith("w") else timedelta(days=n)
    if span > timedelta(days=MAX_PAUSE_DAYS):
        raise UsageError(f"The longest pause is a year; for longer, `nudges off`.\n{usage}")
    return span


def parse_kinds(words: list[str]) -> list[str]:
    if not words:
        raise UsageError(f"Name the kinds you want: {' '.join(KINDS)}.")
    found: list[str] = []
    for word in words:
        kind = _KIND_WORDS.get(word.lower().strip(","))
        if kind is None:
            raise UsageError(f"“{word}” isn't a kind of nudge; the kinds are {', '.join(KINDS)}.")
        if kind not in found:
            found.append(kind)
    return found


class OptIn:
    def __init__(self, services: Services, campaigns: Campaigns) -> None:
        self.s = services
        self.campaigns = campaigns
        # Set by the capability: starts the recurring scans when someone opts in.
        self.ensure_recurring: Callable[[Work], Awaitable[None]] | None = None

    async def ws_cap(self, work: Work) -> int:
        settings = await store.settings(work.session, work.ws_id)
        return guardrails.effective_cap(None, settings.cap if settings else None)

    async def command(self, event: Event, verb: str, rest: str) -> Reply:
        usage = f"Usage: nudges {say.NUDGES_USAGE}"
        words = rest.split()

        async def apply(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            prefs = await store.prefs_row(work.session, work.ws_id, actor.member_id, work.now)
            match verb:
                case "on":
                    prefs.opted_in = True
                    if not prefs.kinds:
                        prefs.kinds = " ".join(KINDS)
                    if self.ensure_recurring is not None:
                        await self.ensure_recurring(work)
                    note = ""
                    if not await sources.is_ambassador(work.session, actor.member_id):
                        note = " (They start once you're an active ambassador.)"
                    return (
                        f"🔔 Nudges are on: {', '.join(sorted(kinds_of(prefs)))}. At most "
                        f"{guardrails.effective_cap(prefs.cap, await self.ws_cap(work))} a week, "
                        "only in your working hours. `nudges` shows what's coming." + note
                    )
                case "off":
                    prefs.opted_in = False
                    return "🔕 Nudges are off: you'll get none. `nudges on` turns them back on."
                case "kinds":
                    kinds = parse_kinds(words)
                    prefs.kinds = " ".join(kinds)
                    tail = "" if prefs.opted_in else " You're not opted in yet: `nudges on`."
                    return f"You'll get nudges about: {', '.join(kinds)}.{tail}"
                case "cap":
                    return await self._cap(work, prefs, rest, usage)
                case "pause":
                    span = parse_span(rest, "Usage: nudges pause 2w")
                    return self._pause(work, prefs, actor, span, "Paused")
                case "snooze":
                    span = parse_span(rest, "Usage: nudges snooze 1d|1w")
                    await self._answer_latest(work, actor.member_id, store.SNOOZED)
                    return self._pause(work, prefs, actor, span, "Snoozed")
                case "resume":
                    was = prefs.paused_until is not None and prefs.paused_until > work.now
                    prefs.paused_until = None
                    return "▶️ Resumed." if was else "You weren't paused; nothing to resume."
                case "stop":
                    kind = parse_kinds(words[:1])[0] if words else None
                    await self._answer_latest(work, actor.member_id, store.STOPPED, kind)
                    return self._stop(prefs, kind)
            raise UsageError(f"I don't know “nudges {verb}”.\n{usage}")

        text = await self.s.run(event, apply)
        return Reply(message=Message(text=rich(text)))

    async def _cap(self, work: Work, prefs: NudgePrefs, rest: str, usage: str) -> str:
        value = rest.strip()
        ceiling = await self.ws_cap(work)
        if value.startswith("-"):
            raise UsageError(f"A cap can't be negative; give a number from 1 to {ceiling}.")
        cap = whole_number(value, 1, guardrails.MAX_CAP, what="The cap", usage=usage)
        if cap > ceiling:
            raise UserError(
                f"The workspace's cap is {ceiling} a week; you can lower yours, not raise it "
                f"above that (an admin sets it with `config nudges-cap N`)."
            )
        prefs.cap = cap
        return f"At most {cap} nudge{'s' if cap != 1 else ''} a week for you from now on."

    def _pause(
        self, work: Work, prefs: NudgePrefs, actor: Person, span: timedelta, word: str
    ) -> str:
        until = work.now + span
        if prefs.paused_until is None or prefs.paused_until < until:
            prefs.paused_until = until
        assert prefs.paused_until is not None
        return (
            f"😴 {word} until {say.when(prefs.paused_until, actor.tz)}. Nothing is lost: what "
            "was due waits. `nudges resume` ends it early."
        )

    def _stop(self, prefs: NudgePrefs, kind: str | None) -> str:
        if kind is None:
            prefs.opted_in = False
            return "🛑 Stopped: no more nudges at all. `nudges on` turns them back on."
        kinds = [k for k in prefs.kinds.split() if k != kind]
        prefs.kinds = " ".join(kinds)
        return (
            f"🛑 No more {kind} nudges. Still on: {', '.join(kinds) or 'nothing'} "
            f"(`nudges kinds ...` to change)."
        )

    async def _answer_latest(
        self, work: Work, member_id: int, response: str, kind: str | None = None
    ) -> None:
        """A command answering "the nudge I just got" answers the latest one still open."""
        for nudge in await store.recent_sent(work.session, member_id, 3):
            if nudge.response is None and (kind is None or nudge.kind == kind):
                await self.campaigns.respond(work, nudge, response)
                return

    # ----- the buttons on every nudge -----------------------------------------------------------

    async def own_nudge(
        self, work: Work, event: ActionPressed, nudge_id: int
    ) -> tuple[Nudge, Person]:
        actor = await work.person(event.actor, event.actor_profile)
        nudge = await store.nudge(work.session, nudge_id)
        if nudge is None or nudge.workspace_id != work.ws_id or nudge.member_id != actor.member_id:
            raise UserError("That button isn't for you (it belongs to someone else's nudge).")
        return nudge, actor

    async def on_snooze(self, event: ActionPressed) -> Reply:
        raw_id, _, span_text = event.value.partition(":")

        async def apply(work: Work) -> str:
            nudge, actor = await self.own_nudge(work, event, _nudge_id(raw_id))
            span = parse_span(span_text or "1d", "Usage: nudges snooze 1d|1w")
            prefs = await store.prefs_row(work.session, work.ws_id, actor.member_id, work.now)
            await self.campaigns.respond(work, nudge, store.SNOOZED)
            return self._pause(work, prefs, actor, span, "Snoozed")

        return Reply(message=Message(text=rich(await self.s.run(event, apply))))

    async def on_stop(self, event: ActionPressed) -> Reply:
        async def apply(work: Work) -> str:
            nudge, actor = await self.own_nudge(work, event, _nudge_id(event.value))
            prefs = await store.prefs_row(work.session, work.ws_id, actor.member_id, work.now)
            await self.campaigns.respond(work, nudge, store.STOPPED)
            return self._stop(prefs, nudge.kind)

        return Reply(message=Message(text=rich(await self.s.run(event, apply))))

    # ----- what you'll get and when --------------------------------------------------------------

    async def show(self, event: Event) -> Reply:
        async def read(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            prefs = await store.prefs(work.session, actor.member_id)
            ceiling = await self.ws_cap(work)
            if prefs is None or not prefs.opted_in:
                return (
                    "You get no nudges: you haven't opted in. `nudges on` turns them on (open "
                    f"questions in your topics, content to share, check-ins, training steps and "
                    f"approved requests from other teams; at most {ceiling} a week, only in "
                    "your working hours, with Snooze and Stop on every one)."
                )
            tz = actor.tz
            hours = await sources.hours_of(work.session, actor.member_id, tz)
            cap = guardrails.effective_cap(prefs.cap, ceiling)
            week = guardrails.week_start(work.now, hours)
            sent = await store.sent_since(work.session, actor.member_id, week)
            lines = [
                f"🔔 Nudges are on: {', '.join(sorted(kinds_of(prefs))) or 'no kinds'}.",
                f"At most {cap} a week (workspace cap {ceiling}); {sent} sent this week.",
                f"Only in your working hours: {calendar.format_days(hours.days)} "
                f"{calendar.format_hours(hours.start, hours.end)} ({hours.tz.key}).",
            ]
            if prefs.paused_until is not None and prefs.paused_until > work.now:
                lines.append(f"Paused until {say.when(prefs.paused_until, tz)}.")
            pending = await store.pending_for(work.session, actor.member_id)
            if pending:
                lines.append("Coming up:")
                for nudge in pending[:10]:
                    due = max(nudge.due_at, work.now)
                    why = f" (waiting: {nudge.reason})" if nudge.reason else ""
                    lines.append(f"• {_label(nudge)}: {say.when(hours.next_start(due), tz)}{why}")
            else:
                lines.append("Nothing queued for you right now.")
            return "\n".join(lines)

        return Reply(message=Message(text=rich(await self.s.run(event, read))))

    async def from_home(self, event: ActionPressed) -> Reply:
        """The Home view's Nudges button: what you get, with a switch to opt in or out."""
        shown = await self.show(event)
        text = shown.message.text
        switch = (
            Button(label="Turn nudges on", action_id="nudge:on", style="primary"),
            Button(label="Turn nudges off", action_id="nudge:off"),
        )
        card = Card(title="Your nudges", sections=(Section(text=text),), buttons=switch)
        return Reply(message=Message(text=text, card=card))


def _nudge_id(text: str) -> int:
    return whole_number(text, 1, 2**62, what="The nudge id")


def _label(nudge: Nudge) -> str:
    kind = nudge.subject.partition(":")[0]
    return {
        "content": "content to share",
        "question": "an open question",
        "training": "a training step",
        "checkin": "a check-in",
        "request": "a request from another team",
    }.get(kind, kind)
