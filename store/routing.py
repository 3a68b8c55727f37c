"""Routing's queries: topics, expert tags, allies' availability, help channels, questions, asks,
and what routing learns (fit per ally and topic, words as evidence).

Ranking reads a topic's candidates in three indexed queries whatever the workspace's size: the
candidates with their profile, availability and fit (experts and past resolvers of the topic),
then their open claims and their asks and claims of the last 7 days (both by member id).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, and_, bindparam, delete, func, or_, select, union, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import (
    Member,
    Role,
    RoutingAlly,
    RoutingAsk,
    RoutingChange,
    RoutingEvidence,
    RoutingExpert,
    RoutingFit,
    RoutingHelpChannel,
    RoutingQuestion,
    RoutingSettings,
    RoutingTopic,
    RoutingWord,
    UTCDateTime,
)

T = TypeVar("T")
_CHUNK = 900  # bound parameters per statement stay under SQLite's and asyncpg's caps
OPEN_STATUSES = ("routing", "waiting", "open", "claimed")
UNCLAIMED = ("routing", "waiting", "open")


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# ----- settings and numbers ----------------------------------------------------------------


async def settings(session: AsyncSession, workspace_id: int) -> RoutingSettings | None:
    return await session.get(RoutingSettings, workspace_id)


async def settings_row(session: AsyncSession, workspace_id: int, now: datetime) -> RoutingSettings:
    await insert_ignore(
        session,
        RoutingSettings,
        {"workspace_id": workspace_id, "last_number": 0, "updated_at": now},
        ("workspace_id",),
    )
    row = await session.get(RoutingSettings, workspace_id)
    assert row is not None
    return row


async def next_number(session: AsyncSession, workspace_id: int, now: datetime) -> int:
    """The next Q-n; the UPDATE locks the row (PostgreSQL) or runs under SQLite's write lock,
    so two questions never share a number."""
    await settings_row(session, workspace_id, now)
    number = await session.scalar(
        update(RoutingSettings)
        .where(RoutingSettings.workspace_id == workspace_id)
        .values(last_number=RoutingSettings.last_number + 1)
        .returning(RoutingSettings.last_number)
    )
    assert number is not None
    return int(number)


# ----- topics and experts ------------------------------------------------------------------


async def topic(session: AsyncSession, workspace_id: int, name: str) -> RoutingTopic | None:
    return await session.scalar(
        select(RoutingTopic).where(
            RoutingTopic.workspace_id == workspace_id, RoutingTopic.name == name
        )
    )


async def topics(session: AsyncSession, workspace_id: int) -> list[RoutingTopic]:
    rows = await session.scalars(
        select(RoutingTopic)
        .where(RoutingTopic.workspace_id == workspace_id)
        .order_by(RoutingTopic.name)
    )
    return list(rows)


async def add_topic(
    session: AsyncSession,
    workspace_id: int,
    name: str,
    description: str | None,
    keywords: str,
    now: datetime,
) -> bool:
    return await insert_ignore(
        session,
        RoutingTopic,
        {
            "workspace_id": workspace_id,
            "name": name,
            "description": description,
            "keywords": keywords,
            "created_at": now,
            "updated_at": now,
        },
        ("workspace_id", "name"),
    )


async def remove_topic(session: AsyncSession, topic_id: int) -> None:
    # Questions keep their history; their topic becomes "general".
    await session.execute(
        update(RoutingQuestion).where(RoutingQuestion.topic_id == topic_id).values(topic_id=None)
    )
    for model in (RoutingExpert, RoutingFit, RoutingEvidence, RoutingWord):
        await session.execute(delete(model).where(model.topic_id == topic_id))
    await session.execute(delete(RoutingTopic).where(RoutingTopic.id == topic_id))


async def expert(session: AsyncSession, topic_id: int, member_id: int) -> RoutingExpert | None:
    return await session.get(RoutingExpert, (topic_id, member_id))


async def set_expert(
    session: AsyncSession,
    *,
    workspace_id: int,
    topic_id: int,
    member_id: int,
    status: str,
    decided_by: int | None,
    reason: str | None,
    now: datetime,
) -> RoutingExpert:
    row = await session.get(RoutingExpert, (topic_id, member_id))
    if row is None:
        row = RoutingExpert(
            topic_id=topic_id, member_id=member_id, workspace_id=workspace_id, created_at=now
        )
        session.add(row)
    row.status, row.decided_by, row.reason, row.updated_at = status, decided_by, reason, now
    return row


async def remove_expert(session: AsyncSession, topic_id: int, member_id: int) -> bool:
    result = await session.execute(
        delete(RoutingExpert).where(
            RoutingExpert.topic_id == topic_id, RoutingExpert.member_id == member_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def experts(
    session: AsyncSession, workspace_id: int, topic_id: int | None, status: str = "active"
) -> list[tuple[RoutingTopic, Member]]:
    """(topic, member) for every expert tag with `status`, by topic then name."""
    query = (
        select(RoutingTopic, Member)
        .join(RoutingExpert, RoutingExpert.topic_id == RoutingTopic.id)
        .join(Member, Member.id == RoutingExpert.member_id)
        .where(RoutingTopic.workspace_id == workspace_id, RoutingExpert.status == status)
        .order_by(RoutingTopic.name, Member.display_name, Member.id)
    )
    if topic_id is not None:
        query = query.where(RoutingTopic.id == topic_id)
    return [(t, m) for t, m in await session.execute(query)]


async def expert_topics(session: AsyncSession, member_id: int) -> list[str]:
    rows = await session.scalars(
        select(RoutingTopic.name)
        .join(RoutingExpert, RoutingExpert.topic_id == RoutingTopic.id)
        .where(RoutingExpert.member_id == member_id, RoutingExpert.status == "active")
        .order_by(RoutingTopic.name)
    )
    return list(rows)


async def open_by_topic(session: AsyncSession, workspace_id: int) -> dict[int | None, int]:
    rows = await session.execute(
        select(RoutingQuestion.topic_id, func.count())
        .where(
            RoutingQuestion.workspace_id == workspace_id,
            RoutingQuestion.status.in_(OPEN_STATUSES),
        )
        .group_by(RoutingQuestion.topic_id)
    )
    return {topic_id: int(n) for topic_id, n in rows}


# ----- allies ------------------------------------------------------------------------------


async def ally(session: AsyncSession, member_id: int) -> RoutingAlly | None:
    return await session.get(RoutingAlly, member_id)


async def ally_row(
    session: AsyncSession, workspace_id: int, member_id: int, now: datetime
) -> RoutingAlly:
    row = await session.get(RoutingAlly, member_id)
    if row is None:
        row = RoutingAlly(member_id=member_id, workspace_id=workspace_id, updated_at=now)
        session.add(row)
    row.updated_at = now
    return row


@dataclass(frozen=True, slots=True)
class AllyFields:
    """A person's availability overrides (the columns of RoutingAlly), as plain values."""

    tz: str | None
    hours: str | None
    days: str | None
    max_open: int | None
    paused_until: datetime | None


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """What ranking needs of one possible helper, read in one statement."""

    member_id: int
    external_id: str
    name: str
    tz: str | None
    is_bot: bool
    ally: AllyFields | None
    expert: bool
    resolved: int
    passes: int
    open_claims: int
    asks: int  # asked since the fairness cut-off
    claims: int  # of those, claimed
    last_asked: datetime | None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite drops the offset
        return value.replace(tzinfo=UTC)
    return value


@functools.cache
def _candidate_query(kind: str) -> Any:
    """The candidates statement, built once per kind ("topic", "managers", "ids") with bound
    parameters, so the hot path neither rebuilds nor recompiles it."""
    topic = bindparam("topic", type_=Integer)
    since = bindparam("since", type_=UTCDateTime())
    wanted: Any
    if kind == "ids":
        wanted = bindparam("ids", expanding=True)
    elif kind == "managers":
        wanted = select(Role.member_id).where(
            Role.workspace_id == bindparam("ws", type_=Integer), Role.role == "community_manager"
        )
    else:
        wanted = union(
            select(RoutingExpert.member_id).where(
                RoutingExpert.topic_id == topic, RoutingExpert.status == "active"
            ),
            select(RoutingFit.member_id).where(
                RoutingFit.topic_id == topic, RoutingFit.resolved > 0
            ),
        )
    claims = (
        select(func.count())
        .select_from(RoutingQuestion)
        .where(RoutingQuestion.claimed_by == Member.id, RoutingQuestion.status == "claimed")
        .scalar_subquery()
    )
    recent = and_(RoutingAsk.member_id == Member.id, RoutingAsk.asked_at >= since)
    asks_n = select(func.count()).select_from(RoutingAsk).where(recent).scalar_subquery()
    claims_n = (
        select(func.count())
        .select_from(RoutingAsk)
        .where(recent, RoutingAsk.outcome == "claimed")
        .scalar_subquery()
    )
    last = select(func.max(RoutingAsk.asked_at)).where(recent).scalar_subquery()
    return (
        select(
            Member.id,
            Member.external_id,
            Member.display_name,
            Member.tz,
            Member.is_bot,
            RoutingAlly.member_id,
            RoutingAlly.tz,
            RoutingAlly.hours,
            RoutingAlly.days,
            RoutingAlly.max_open,
            RoutingAlly.paused_until,
            RoutingExpert.member_id,
            RoutingFit.resolved,
            RoutingFit.passes,
            claims,
            asks_n,
            claims_n,
            last,
        )
        .outerjoin(RoutingAlly, RoutingAlly.member_id == Member.id)
        .outerjoin(
            RoutingExpert,
            and_(
                RoutingExpert.member_id == Member.id,
                RoutingExpert.topic_id == topic,
                RoutingExpert.status == "active",
            ),
        )
        .outerjoin(
            RoutingFit, and_(RoutingFit.member_id == Member.id, RoutingFit.topic_id == topic)
        )
        # The ids come from workspace-scoped rows; a workspace predicate here would let
        # SQLite's planner scan the workspace's members instead of looking the ids up.
        .where(Member.id.in_(wanted))
        .order_by(Member.id)
    )


async def candidates(
    session: AsyncSession,
    workspace_id: int,
    topic_id: int | None,
    since: datetime,
    *,
    managers: bool = False,
    member_ids: Sequence[int] | None = None,
) -> list[CandidateRow]:
    """The topic's experts and past resolvers (with `managers`: the community managers; with
    `member_ids`: those people), with profile, availability, fit, open claims and their asks
    and claims since `since`, in one statement (correlated counts on indexed columns), by id."""
    params: dict[str, Any] = {"topic": topic_id if topic_id is not None else -1, "since": since}
    if member_ids is not None:
        if not member_ids:
            return []
        query, params["ids"] = _candidate_query("ids"), list(member_ids)
    elif managers:
        query, params["ws"] = _candidate_query("managers"), workspace_id
    else:
        query = _candidate_query("topic")
    out = []
    rows: list[Any] = list(await session.execute(query, params))
    for row in rows:
        (mid, ext, name, tz, is_bot, ally_id, a_tz, a_hours, a_days, a_max, a_paused) = row[:11]
        expert_id, resolved, passes, open_n, asked, claimed, last_at = row[11:]
        out.append(
            CandidateRow(
                member_id=int(mid),
                external_id=ext,
                name=name or ext,
                tz=tz,
                is_bot=bool(is_bot),
                ally=None
                if ally_id is None
                else AllyFields(a_tz, a_hours, a_days, a_max, _aware(a_paused)),
                expert=expert_id is not None,
                resolved=int(resolved or 0),
                passes=int(passes or 0),
                open_claims=int(open_n or 0),
                asks=int(asked or 0),
                claims=int(claimed or 0),
                last_asked=_aware(last_at),
            )
        )
    return out


# ----- help channels -----------------------------------------------------------------------


async def help_channels(session: AsyncSession, workspace_id: int) -> list[RoutingHelpChannel]:
    rows = await session.scalars(
        select(RoutingHelpChannel)
        .where(RoutingHelpChannel.workspace_id == workspace_id)
        .order_by(RoutingHelpChannel.channel_id)
    )
    return list(rows)


async def help_channel(
    session: AsyncSession, workspace_id: int, channel_id: str
) -> RoutingHelpChannel | None:
    return await session.get(RoutingHelpChannel, (workspace_id, channel_id))


async def remove_help_channel(session: AsyncSession, workspace_id: int, channel_id: str) -> bool:
    result = await session.execute(
        delete(RoutingHelpChannel).where(
            RoutingHelpChannel.workspace_id == workspace_id,
            RoutingHelpChannel.channel_id == channel_id,
        )
    )
    return bool(getattr(result, "rowcount", 0))


# ----- questions ---------------------------------------------------------------------------


async def question(session: AsyncSession, question_id: int) -> RoutingQuestion | None:
    return await session.get(RoutingQuestion, question_id, populate_existing=True)


async def question_by_number(
    session: AsyncSession, workspace_id: int, number: int
) -> RoutingQuestion | None:
    return await session.scalar(
        select(RoutingQuestion).where(
            RoutingQuestion.workspace_id == workspace_id, RoutingQuestion.number == number
        )
    )


async def question_by_source(
    session: AsyncSession, workspace_id: int, source_key: str
) -> RoutingQuestion | None:
    return await session.scalar(
        select(RoutingQuestion).where(
            RoutingQuestion.workspace_id == workspace_id,
            RoutingQuestion.source_key == source_key,
        )
    )


async def question_by_message(
    session: AsyncSession, workspace_id: int, channel_id: str, message_id: str
) -> RoutingQuestion | None:
    return await session.scalar(
        select(RoutingQuestion).where(
            RoutingQuestion.workspace_id == workspace_id,
            RoutingQuestion.channel_id == channel_id,
            RoutingQuestion.message_id == message_id,
        )
    )


async def recent_question(
    session: AsyncSession, asker_id: int, channel_id: str, since: datetime
) -> RoutingQuestion | None:
    """The asker's latest unresolved question in the channel with a message since `since`."""
    return await session.scalar(
        select(RoutingQuestion)
        .where(
            RoutingQuestion.asker_id == asker_id,
            RoutingQuestion.channel_id == channel_id,
            RoutingQuestion.last_message_at >= since,
            RoutingQuestion.status.in_(OPEN_STATUSES),
        )
        .order_by(RoutingQuestion.last_message_at.desc())
        .limit(1)
    )


async def list_questions(
    session: AsyncSession,
    workspace_id: int,
    *,
    statuses: Sequence[str],
    member_id: int | None = None,
    limit: int = 20,
) -> list[RoutingQuestion]:
    query = select(RoutingQuestion).where(
        RoutingQuestion.workspace_id == workspace_id, RoutingQuestion.status.in_(statuses)
    )
    if member_id is not None:
        query = query.where(
            or_(
                RoutingQuestion.asker_id == member_id,
                RoutingQuestion.claimed_by == member_id,
                RoutingQuestion.id.in_(
                    select(RoutingAsk.question_id).where(RoutingAsk.member_id == member_id)
                ),
            )
        )
    rows = await session.scalars(query.order_by(RoutingQuestion.number.desc()).limit(limit))
    return list(rows)


async def claim(session: AsyncSession, question_id: int, member_id: int, now: datetime) -> bool:
    """The first claim wins: a conditional UPDATE, so of two concurrent claims exactly one
    changes the row (PostgreSQL re-checks the WHERE after the first commits)."""
    result = await session.execute(
        update(RoutingQuestion)
        .where(
            RoutingQuestion.id == question_id,
            RoutingQuestion.status.in_(UNCLAIMED),
            RoutingQuestion.claimed_by.is_(None),
        )
        .values(status="claimed", claimed_by=member_id, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def asks(session: AsyncSession, question_id: int) -> list[tuple[RoutingAsk, Member]]:
    rows = await session.execute(
        select(RoutingAsk, Member)
        .join(Member, Member.id == RoutingAsk.member_id)
        .where(RoutingAsk.question_id == question_id)
        .order_by(RoutingAsk.asked_at, RoutingAsk.member_id)
    )
    return [(a, m) for a, m in rows]


async def asked_ids(session: AsyncSession, question_id: int) -> set[int]:
    rows = await session.scalars(
        select(RoutingAsk.member_id).where(RoutingAsk.question_id == question_id)
    )
    return set(rows)


async def add_ask(
    session: AsyncSession,
    *,
    workspace_id: int,
    question_id: int,
    member_id: int,
    level: int,
    now: datetime,
) -> bool:
    return await insert_ignore(
        session,
        RoutingAsk,
        {
            "workspace_id": workspace_id,
            "question_id": question_id,
            "member_id": member_id,
            "level": level,
            "outcome": "asked",
            "asked_at": now,
        },
        ("question_id", "member_id"),
    )


async def set_ask_outcome(
    session: AsyncSession, question_id: int, member_ids: Iterable[int], outcome: str
) -> None:
    ids = list(member_ids)
    if ids:
        await session.execute(
            update(RoutingAsk)
            .where(RoutingAsk.question_id == question_id, RoutingAsk.member_id.in_(ids))
            .values(outcome=outcome)
            .execution_options(synchronize_session=False)
        )


async def add_change(
    session: AsyncSession,
    question_id: int,
    kind: str,
    now: datetime,
    *,
    actor_id: int | None = None,
    note: str | None = None,
) -> None:
    session.add(
        RoutingChange(
            question_id=question_id, actor_id=actor_id, kind=kind, note=note, created_at=now
        )
    )


async def changes(
    session: AsyncSession, question_id: int
) -> list[tuple[RoutingChange, Member | None]]:
    rows = await session.execute(
        select(RoutingChange, Member)
        .outerjoin(Member, Member.id == RoutingChange.actor_id)
        .where(RoutingChange.question_id == question_id)
        .order_by(RoutingChange.id)
    )
    return [(c, m) for c, m in rows]


# ----- what routing learns -----------------------------------------------------------------


async def bump_fit(
    session: AsyncSession,
    workspace_id: int,
    member_id: int,
    topic_id: int,
    *,
    resolved: int = 0,
    passes: int = 0,
) -> None:
    stmt = _insert(session)(RoutingFit).values(
        workspace_id=workspace_id,
        member_id=member_id,
        topic_id=topic_id,
        resolved=resolved,
        passes=passes,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["member_id", "topic_id"],
        set_={
            "resolved": RoutingFit.resolved + resolved,
            "passes": RoutingFit.passes + passes,
        },
    )
    await session.execute(stmt)


async def add_evidence(
    session: AsyncSession, workspace_id: int, topic_id: int, member_id: int, words: Iterable[str]
) -> None:
    """The words of a question `member_id` resolved on `topic_id`: evidence for both."""
    insert = _insert(session)
    for word in sorted(set(words)):  # one order: rows lock in it
        stmt = insert(RoutingEvidence).values(
            workspace_id=workspace_id, word=word, topic_id=topic_id, member_id=member_id, count=1
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "word", "topic_id", "member_id"],
                set_={"count": RoutingEvidence.count + 1},
            )
        )
        stmt = insert(RoutingWord).values(
            workspace_id=workspace_id, word=word, topic_id=topic_id, count=1
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "word", "topic_id"],
                set_={"count": RoutingWord.count + 1},
            )
        )


# A word's best topics (or helpers) only: each is one short range of its (word, count) index,
# so a word that came up in thousands of questions costs no more than a rare one.
TOP_TOPICS_PER_WORD = 5
TOP_MEMBERS_PER_WORD = 25


async def evidence_by_topic(
    session: AsyncSession, workspace_id: int, words: Sequence[str]
) -> dict[int, dict[str, int]]:
    """Per topic, how often each of `words` was in a question resolved on it (each word's
    best topics only)."""
    out: dict[int, dict[str, int]] = {}
    if not words:
        return out
    parts = [
        select(RoutingWord.topic_id, RoutingWord.word, RoutingWord.count)
        .where(RoutingWord.workspace_id == workspace_id, RoutingWord.word == word)
        .order_by(RoutingWord.count.desc(), RoutingWord.topic_id)
        .limit(TOP_TOPICS_PER_WORD)
        .subquery()
        for word in list(dict.fromkeys(words))[:20]
    ]
    query = union_all(*(select(p.c.topic_id, p.c.word, p.c["count"]) for p in parts))
    for topic_id, word, n in await session.execute(query):
        out.setdefault(int(topic_id), {})[word] = int(n)
    return out


async def evidence_by_member(
    session: AsyncSession, workspace_id: int, words: Sequence[str], limit: int = 200
) -> dict[int, int]:
    """Per member, how much evidence of `words` they have (each word's best helpers only),
    most first."""
    if not words:
        return {}
    parts = [
        select(RoutingEvidence.member_id, RoutingEvidence.count)
        .where(RoutingEvidence.workspace_id == workspace_id, RoutingEvidence.word == word)
        .order_by(RoutingEvidence.count.desc(), RoutingEvidence.member_id)
        .limit(TOP_MEMBERS_PER_WORD)
        .subquery()
        for word in list(dict.fromkeys(words))[:20]
    ]
    query = union_all(*(select(p.c.member_id, p.c["count"]) for p in parts))
    totals: dict[int, int] = {}
    for member_id, n in await session.execute(query):
        totals[int(member_id)] = totals.get(int(member_id), 0) + int(n)
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return dict(ranked)


async def resolved_counts(
    session: AsyncSession, member_ids: Iterable[int], topic_ids: Iterable[int]
) -> dict[tuple[int, int], int]:
    topic_list = list(dict.fromkeys(topic_ids))
    out: dict[tuple[int, int], int] = {}
    if not topic_list:
        return out
    for chunk in _chunks(member_ids):
        rows = await session.execute(
            select(RoutingFit.member_id, RoutingFit.topic_id, RoutingFit.resolved).where(
                RoutingFit.member_id.in_(chunk), RoutingFit.topic_id.in_(topic_list)
            )
        )
        out.update({(int(m), int(t)): int(n) for m, t, n in rows})
    return out
