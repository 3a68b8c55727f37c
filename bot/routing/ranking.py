"""Who to ask, decided deterministically from the state and the clock (no I/O here).

Ranked by being available now, then by fit (expert tag, questions resolved on the topic, minus
"not my area" passes) less their load (asks and claims of the last 7 days), then least recently
asked, then member id, so that the same state and clock always choose the same people."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.calendar import WorkingHours
from bot.ids import UserRef
from bot.ports import Presence
from bot.routing import presence as presence_rules
from bot.routing.availability import Availability

EXPERT_POINTS = 10
RESOLVED_POINTS = 3
RESOLVED_CAP = 10  # beyond this, more answers do not make someone more of a fit
PASS_POINTS = 4
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: int
    ref: UserRef
    name: str
    availability: Availability
    expert: bool = False
    resolved: int = 0
    passes: int = 0
    open_claims: int = 0
    asks_7d: int = 0
    claims_7d: int = 0
    last_asked: datetime | None = None
    manager: bool = False

    @property
    def fit(self) -> int:
        return (
            EXPERT_POINTS * self.expert
            + RESOLVED_POINTS * min(self.resolved, RESOLVED_CAP)
            - PASS_POINTS * self.passes
        )

    @property
    def load(self) -> int:
        return self.asks_7d + self.claims_7d

    def unavailable(
        self,
        now: datetime,
        presence: Presence | None,
        away_words: Sequence[str],
        working: dict[WorkingHours, bool] | None = None,
    ) -> str | None:
        """Why they must not be asked now, or None. `working`: a memo of whose hours are
        working now (many people share the same hours)."""
        av = self.availability
        if av.paused(now):
            assert av.paused_until is not None
            return f"paused until {av.paused_until.astimezone(av.tz):%a %H:%M}"
        memo = {} if working is None else working
        on = memo.get(av.hours)
        if on is None:
            on = memo[av.hours] = av.hours.is_working(now)
        if not on:
            return "outside their working hours"
        if self.open_claims >= av.max_open:
            return f"at their cap of {av.max_open} open questions"
        return presence_rules.away(presence, away_words)


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    unavailable: str | None  # None: available now

    @property
    def available(self) -> bool:
        return self.unavailable is None


def rank(
    candidates: Iterable[Candidate],
    now: datetime,
    presence: Mapping[UserRef, Presence | None],
    away_words: Sequence[str],
) -> list[Ranked]:
    ranked = [Ranked(c, c.unavailable(now, presence.get(c.ref), away_words)) for c in candidates]
    ranked.sort(
        key=lambda r: (
            not r.available,
            -(r.candidate.fit - r.candidate.load),
            r.candidate.last_asked or _EARLIEST,
            r.candidate.member_id,
        )
    )
    return ranked


def choose(ranked: Sequence[Ranked], k: int, exclude: Iterable[int]) -> list[Candidate]:
    """The first `k` available people not excluded (the asker, those asked already)."""
    skip = set(exclude)
    return [r.candidate for r in ranked if r.available and r.candidate.member_id not in skip][:k]


def first_on_duty(
    candidates: Iterable[Candidate], now: datetime, exclude: Iterable[int]
) -> tuple[Candidate, datetime] | None:
    """Who comes on duty first (ties: the lower member id), and when."""
    skip = set(exclude)
    best: tuple[datetime, int, Candidate] | None = None
    for c in candidates:
        if c.member_id in skip:
            continue
        when = c.availability.next_on_duty(now)
        if best is None or (when, c.member_id) < (best[0], best[1]):
            best = (when, c.member_id, c)
    return None if best is None else (best[2], best[0])


def reason(c: Candidate, topic: str | None, available: bool) -> str:
    """Why someone is listed ("expert on VPN; resolved 4 VPN questions; available now")."""
    parts = []
    if c.expert and topic:
        parts.append(f"expert on {topic}")
    if c.resolved and topic:
        parts.append(f"resolved {c.resolved} {topic} question{'s' if c.resolved != 1 else ''}")
    if c.manager:
        parts.append("community manager")
    parts.append("available now" if available else "not available now")
    return "; ".join(parts)
