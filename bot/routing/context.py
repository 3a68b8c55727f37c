"""What routing's pieces share: the kernel's services, roles, recognition (credit), kudos (the
one-tap thanks), the presence cache, and the reads every decision makes (topics, help channels,
settings and candidates), shared between units of work where they rarely change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot import calendar
from bot.args import whole_number
from bot.errors import UsageError
from bot.ids import UserRef
from bot.kudos.service import KudosService
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.routing import availability
from bot.routing.classify import TopicInfo, keywords
from bot.routing.presence import DEFAULT_AWAY_WORDS, PresenceCache
from bot.routing.ranking import Candidate
from bot.services import Services
from bot.work import Work
from store import routing as store
from store.models import RoutingHelpChannel, RoutingQuestion

DEFAULT_ASK = 2
DEFAULT_ESCALATE_AFTER = 30  # working minutes
DEFAULT_REMINDER_HOURS = 4
GROUP_WINDOW = timedelta(minutes=5)  # messages of one person this close are one question
FAIRNESS_WINDOW = timedelta(days=7)
GENERAL = "general"


def qid(number: int) -> str:
    return f"Q-{number}"


MAX_ID = 2**62  # row ids (BIGINT on PostgreSQL, 64-bit on SQLite)
MAX_NUMBER = 2**31 - 1  # Q-n numbers (INTEGER)


def parse_qid(text: str) -> int:
    value = text.strip().upper().removeprefix("Q-").removeprefix("Q")
    try:
        return whole_number(value, 1, MAX_NUMBER)
    except UsageError:
        raise UsageError(
            f"“{text.strip()}” is not a question id; expected Q-12 (see `questions`)."
        ) from None


@dataclass(frozen=True, slots=True)
class HelpChannel:
    channel_id: str
    topics: tuple[str, ...]
    ask: int
    escalate_after: int


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    away_words: tuple[str, ...]
    reminder_hours: int


class Context:
    def __init__(
        self, services: Services, roles: Roles, recognition: Recognition, kudos: KudosService
    ) -> None:
        self.s = services
        self.roles = roles
        self.recognition = recognition
        self.kudos = kudos
        self.presence = PresenceCache(services.ports, services.clock)

    # ----- shared reads ---------------------------------------------------------------------

    async def topics(self, work: Work) -> tuple[TopicInfo, ...]:
        async def load() -> tuple[TopicInfo, ...]:
            rows = await store.topics(work.session, work.ws_id)
            return tuple(
                TopicInfo(r.id, r.name, keywords(r.keywords), r.description or "") for r in rows
            )

        return await work.cached(("routing_topics", work.ws_id), load)

    async def topic_by_name(self, work: Work, name: str) -> TopicInfo:
        wanted = name.strip().lower().lstrip("#")
        topics = await self.topics(work)
        for topic in topics:
            if topic.name == wanted:
                return topic
        known = ", ".join(t.name for t in topics) or "none yet (curators add them with topic add)"
        raise UsageError(f"There is no topic “{name.strip()}”. Topics: {known}.")

    async def topic_by_id(self, work: Work, topic_id: int | None) -> TopicInfo | None:
        if topic_id is None:
            return None
        return next((t for t in await self.topics(work) if t.id == topic_id), None)

    async def help_channels(self, work: Work) -> dict[str, HelpChannel]:
        async def load() -> dict[str, HelpChannel]:
            rows = await store.help_channels(work.session, work.ws_id)
            return {r.channel_id: _channel(r) for r in rows}

        return await work.cached(("routing_channels", work.ws_id), load)

    async def config(self, work: Work) -> RoutingConfig:
        async def load() -> RoutingConfig:
            row = await store.settings(work.session, work.ws_id)
            words = DEFAULT_AWAY_WORDS
            if row is not None and row.away_words is not None:
                words = tuple(w.strip() for w in row.away_words.split(",") if w.strip())
            hours = (
                row.reminder_hours
                if row is not None and row.reminder_hours
                else DEFAULT_REMINDER_HOURS
            )
            return RoutingConfig(words, hours)

        return await work.cached(("routing_config", work.ws_id), load)

    async def channel_of(self, work: Work, question: RoutingQuestion) -> HelpChannel:
        if question.channel_id:
            found = (await self.help_channels(work)).get(question.channel_id)
            if found is not None:
                return found
        return HelpChannel(question.channel_id or "", (), DEFAULT_ASK, DEFAULT_ESCALATE_AFTER)

    # ----- candidates -----------------------------------------------------------------------

    async def candidates(
        self,
        work: Work,
        topic_id: int | None,
        *,
        managers: bool,
        member_ids: Sequence[int] | None = None,
    ) -> list[Candidate]:
        """The topic's allies (or the community managers, or `member_ids`), with everything
        ranking reads, in one statement."""
        rows = await store.candidates(
            work.session,
            work.ws_id,
            topic_id,
            work.now - FAIRNESS_WINDOW,
            managers=managers,
            member_ids=member_ids,
        )
        default = self.s.settings.default_timezone
        return [
            Candidate(
                member_id=r.member_id,
                ref=UserRef(work.workspace, r.external_id),
                name=r.name,
                availability=availability.of(calendar.zone(r.tz, default), r.ally),
                expert=r.expert,
                resolved=r.resolved,
                passes=r.passes,
                open_claims=r.open_claims,
                asks_7d=r.asks,
                claims_7d=r.claims,
                last_asked=r.last_asked,
                manager=managers,
            )
            for r in rows
            if not r.is_bot
        ]

    async def availability_of(
        self, work: Work, member_id: int, tz_name: str | None
    ) -> availability.Availability:
        row = await store.ally(work.session, member_id)
        return availability.of(calendar.zone(tz_name, self.s.settings.default_timezone), row)

    async def managers(self, work: Work) -> list[Candidate]:
        """Community managers are allies too (their hours, pause and cap count the same)."""
        return await self.candidates(work, None, managers=True)


def _channel(row: RoutingHelpChannel) -> HelpChannel:
    return HelpChannel(
        channel_id=row.channel_id,
        topics=tuple(t for t in row.topics.split() if t),
        ask=row.ask_count,
        escalate_after=row.escalate_after,
    )
