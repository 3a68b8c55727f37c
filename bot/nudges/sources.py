"""Everything nudges read from other capabilities, in one place (read-only): the ambassador
roster and offices, the training checklist, routing's questions, topics and experts, people's
availability, and the activity a check-in looks at. If their schema moves, only this changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendar
from bot.routing import availability
from store import ambassadors as amb_store
from store import routing as routing_store
from store.models import (
    AmbassadorOffice,
    AmbassadorPerson,
    Kudos,
    Member,
    Nudge,
    RoutingExpert,
    RoutingQuestion,
    RoutingTopic,
    TrainingProgress,
    TrainingStep,
    TrainingTick,
)

TRACK = "ambassador"


@dataclass(frozen=True, slots=True)
class Ambassador:
    member_id: int
    external_id: str
    name: str
    tz: str | None
    office_id: int | None
    interests: frozenset[str]
    joined_at: datetime | None


def interests_of(text: str | None) -> frozenset[str]:
    return frozenset(w.lstrip("#").casefold() for w in (text or "").split() if w.lstrip("#"))


async def ambassadors(
    session: AsyncSession, workspace_id: int, member_ids: Iterable[int] | None = None
) -> list[Ambassador]:
    """Active ambassadors (of `member_ids` only, when given), in member order."""
    query = (
        select(AmbassadorPerson, Member)
        .join(Member, Member.id == AmbassadorPerson.member_id)
        .where(
            AmbassadorPerson.workspace_id == workspace_id,
            AmbassadorPerson.status == amb_store.ACTIVE,
            Member.is_bot.is_(False),
        )
        .order_by(Member.id)
    )
    if member_ids is not None:
        query = query.where(Member.id.in_(list(member_ids)))
    return [
        Ambassador(
            member_id=m.id,
            external_id=m.external_id,
            name=m.display_name or m.external_id,
            tz=m.tz,
            office_id=p.office_id,
            interests=interests_of(p.interests),
            joined_at=p.confirmed_at or p.joined_at,
        )
        for p, m in await session.execute(query)
    ]


async def is_ambassador(session: AsyncSession, member_id: int) -> bool:
    row = await amb_store.person(session, member_id)
    return row is not None and row.status == amb_store.ACTIVE


async def offices(session: AsyncSession, workspace_id: int) -> dict[str, AmbassadorOffice]:
    """Offices by their case-folded name."""
    return {o.key: o for o in await amb_store.offices(session, workspace_id)}


async def known_interests(session: AsyncSession, workspace_id: int) -> set[str]:
    rows = await session.scalars(
        select(AmbassadorPerson.interests).where(AmbassadorPerson.workspace_id == workspace_id)
    )
    found: set[str] = set()
    for text in rows:
        found |= interests_of(text)
    return found


async def hours_of(
    session: AsyncSession, member_id: int, profile_tz: ZoneInfo
) -> calendar.WorkingHours:
    """The person's own working hours: routing's availability (their zone, hours and days if
    they set them), else their profile's zone with the calendar's defaults."""
    row = await routing_store.ally(session, member_id)
    return availability.of(profile_tz, row).hours


# ----- open questions in a person's topics ------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    id: int
    number: int
    topic_id: int
    topic: str
    text: str
    link: str | None


async def open_questions(session: AsyncSession, workspace_id: int) -> list[OpenQuestion]:
    rows = await session.execute(
        select(RoutingQuestion, RoutingTopic.name)
        .join(RoutingTopic, RoutingTopic.id == RoutingQuestion.topic_id)
        .where(
            RoutingQuestion.workspace_id == workspace_id,
            RoutingQuestion.status.in_(routing_store.UNCLAIMED),
            RoutingQuestion.claimed_by.is_(None),
        )
        .order_by(RoutingQuestion.created_at)
    )
    return [OpenQuestion(q.id, q.number, q.topic_id or 0, name, q.text, q.link) for q, name in rows]


async def question(session: AsyncSession, question_id: int) -> OpenQuestion | None:
    q = await routing_store.question(session, question_id)
    if q is None or q.topic_id is None:
        return None
    topic = await session.get(RoutingTopic, q.topic_id)
    name = topic.name if topic is not None else "your topics"
    return OpenQuestion(q.id, q.number, q.topic_id, name, q.text, q.link)


async def experts_by_topic(session: AsyncSession, workspace_id: int) -> dict[int, set[int]]:
    rows = await session.execute(
        select(RoutingExpert.topic_id, RoutingExpert.member_id).where(
            RoutingExpert.workspace_id == workspace_id, RoutingExpert.status == "active"
        )
    )
    found: dict[int, set[int]] = {}
    for topic_id, member_id in rows:
        found.setdefault(topic_id, set()).add(member_id)
    return found


async def question_open(session: AsyncSession, question_id: int) -> bool:
    q = await routing_store.question(session, question_id)
    return q is not None and q.status in routing_store.UNCLAIMED and q.claimed_by is None


# ----- training ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    id: int
    position: int
    title: str
    link: str | None


async def first_undone_steps(session: AsyncSession, workspace_id: int) -> dict[int, Step]:
    """Per person with an unfinished ambassador checklist, the first step not ticked yet."""
    steps = [
        Step(s.id, s.position, s.title, s.link)
        for s in await session.scalars(
            select(TrainingStep)
            .where(TrainingStep.workspace_id == workspace_id, TrainingStep.track == TRACK)
            .order_by(TrainingStep.position, TrainingStep.id)
        )
    ]
    if not steps:
        return {}
    people = list(
        await session.scalars(
            select(TrainingProgress.member_id).where(
                TrainingProgress.workspace_id == workspace_id,
                TrainingProgress.track == TRACK,
                TrainingProgress.completed_at.is_(None),
            )
        )
    )
    if not people:
        return {}
    ticks: dict[int, set[int]] = {}
    for member_id, step_id in await session.execute(
        select(TrainingTick.member_id, TrainingTick.step_id).where(
            TrainingTick.member_id.in_(people)
        )
    ):
        ticks.setdefault(member_id, set()).add(step_id)
    found: dict[int, Step] = {}
    for member_id in people:
        done = ticks.get(member_id, set())
        undone = [s for s in steps if s.id not in done]
        if undone:
            found[member_id] = undone[0]
    return found


async def step(session: AsyncSession, step_id: int) -> Step | None:
    row = await session.get(TrainingStep, step_id)
    return None if row is None else Step(row.id, row.position, row.title, row.link)


async def step_done(session: AsyncSession, member_id: int, step_id: int) -> bool:
    return await session.get(TrainingTick, (member_id, step_id)) is not None


# ----- activity, for check-ins ------------------------------------------------------------


async def last_activity(
    session: AsyncSession, members: Sequence[Ambassador]
) -> dict[int, datetime | None]:
    """The latest sign of life per ambassador: joining, a nudge answered, a training step, a
    kudos given or a question claimed."""
    ids = [a.member_id for a in members]
    latest: dict[int, datetime | None] = {a.member_id: a.joined_at for a in members}
    if not ids:
        return latest

    def bump(member_id: int | None, when: datetime | None) -> None:
        if member_id is None or when is None:
            return
        current = latest.get(member_id)
        latest[member_id] = when if current is None or when > current else current

    for column, who in (
        (Nudge.responded_at, Nudge.member_id),
        (TrainingTick.done_at, TrainingTick.member_id),
        (Kudos.created_at, Kudos.giver_id),
        (RoutingQuestion.claimed_at, RoutingQuestion.claimed_by),
    ):
        for member_id, when in await session.execute(
            select(who, func.max(column)).where(who.in_(ids)).group_by(who)
        ):
            bump(member_id, when)
    return latest
