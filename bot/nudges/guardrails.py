"""The guardrails, as one pure decision: may this nudge go now, and if not, until when does it
wait (or is it dropped because the person no longer wants it)?

Checked when the nudge's job runs, right before its DM would be queued, so a snooze, a stop or
a change of zone made after a campaign was queued still holds. Waiting is the scheduler's
Defer (no attempt spent): a nudge is never dropped for being early, only for consent.

- consent: opted in, and the nudge's kind among the person's kinds (Stop these removes it);
- relevance: the question is still unclaimed, the step still undone (the caller says);
- pause and snooze: until `paused_until`;
- spacing and fatigue back-off: at least SPACING after the previous nudge; after two ignored
  in a row, twice that, doubling with each further one (at most MAX_BACKOFF times);
- the weekly cap: at most `cap` sent in the person's own week (Monday 00:00 in their zone);
- quiet hours: only inside the person's working hours and days (bot/calendar.py's
  WorkingHours, so a DST change moves the morning with the clock, not by an hour).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot import calendar

KINDS = ("questions", "content", "checkins", "training", "requests")
DEFAULT_CAP = 3
MAX_CAP = 20
SPACING = timedelta(days=1)
MAX_BACKOFF = 8

# Why a nudge waits or was dropped: the names `nudges status` counts by.
OPTED_OUT = "opted out"
KIND_OFF = "kind off"
IRRELEVANT = "no longer relevant"
ACTED = "already acted on"
PAUSED = "paused"
FATIGUE = "fatigue back-off"
SPACED = "spacing"
CAPPED = "weekly cap"
QUIET = "quiet hours"


@dataclass(frozen=True, slots=True)
class Consent:
    opted_in: bool
    kinds: frozenset[str]
    cap: int  # the person's effective cap: theirs, never above the workspace's
    paused_until: datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    send: bool
    until: datetime | None = None  # when it waits
    reason: str | None = None  # why it waits or was dropped

    @property
    def dropped(self) -> bool:
        return not self.send and self.until is None


def effective_cap(own: int | None, workspace: int | None) -> int:
    ceiling = workspace if workspace is not None else DEFAULT_CAP
    return ceiling if own is None else min(own, ceiling)


def ignored_streak(recent: Sequence[datetime | None]) -> int:
    """How many of the latest sent nudges (newest first, given as their response times) in a
    row got no response at all."""
    streak = 0
    for responded in recent:
        if responded is not None:
            break
        streak += 1
    return streak


def gap(streak: int) -> timedelta:
    """The wait after the previous nudge: SPACING, doubled once two in a row were ignored."""
    if streak < 2:
        return SPACING
    factor: int = min(2 ** (streak - 1), MAX_BACKOFF)
    return SPACING * factor


def week_start(now: datetime, hours: calendar.WorkingHours) -> datetime:
    """Monday 00:00 of `now`'s week in the person's zone (their week, not the server's)."""
    day = calendar.week_start(now.astimezone(hours.tz).date())
    return calendar.day_start(datetime.combine(day, time(12), hours.tz), hours.tz)


def decide(
    *,
    kind: str,
    consent: Consent | None,
    relevant: bool,
    hours: calendar.WorkingHours,
    now: datetime,
    sent_this_week: int,
    last_sent_at: datetime | None,
    recent_responses: Sequence[datetime | None],
) -> Decision:
    if consent is None or not consent.opted_in:
        return Decision(False, None, OPTED_OUT)
    if kind not in consent.kinds:
        return Decision(False, None, KIND_OFF)
    if not relevant:
        return Decision(False, None, IRRELEVANT)
    now = now.astimezone(UTC)
    until, reason = now, ""
    if consent.paused_until is not None and consent.paused_until > until:
        until, reason = consent.paused_until.astimezone(UTC), PAUSED
    if last_sent_at is not None:
        streak = ignored_streak(recent_responses)
        ready = last_sent_at.astimezone(UTC) + gap(streak)
        if ready > until:
            until, reason = ready, FATIGUE if streak >= 2 else SPACED
    if sent_this_week >= consent.cap:
        week = week_start(until, hours)
        # Counted in the week it would go out in: a later week starts from zero.
        if week <= week_start(now, hours):
            next_week = calendar.next_day_start(
                calendar.shift_days(week.astimezone(hours.tz), 6), hours.tz
            ).astimezone(UTC)
            if next_week > until:
                until, reason = next_week, CAPPED
    opens = hours.next_start(until.astimezone(hours.tz)).astimezone(UTC)
    if opens > until:
        until, reason = opens, reason or QUIET
    if until <= now:
        return Decision(True)
    return Decision(False, until, reason or QUIET)
