"""The ambassador program's queries: settings, offices, people, training and community requests.

Every function works inside the caller's transaction (one unit of work, bot/work.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import (
    AmbassadorOffice,
    AmbassadorPerson,
    AmbassadorSettings,
    CommunityChange,
    CommunityRequest,
    Member,
    TrainingProgress,
    TrainingStep,
    TrainingTick,
)

ACTIVE = "active"
PENDING = "pending"

# ----- settings ---------------------------------------------------------------------------


async def settings(session: AsyncSession, workspace_id: int) -> AmbassadorSettings | None:
    return await session.get(AmbassadorSettings, workspace_id)


async def settings_row(
    session: AsyncSession, workspace_id: int, now: datetime
) -> AmbassadorSettings:
    """The workspace's row, created if missing (concurrent first uses both get the one row)."""
    await _ensure_settings(session, workspace_id, now)
    row = await session.get(AmbassadorSettings, workspace_id)
    assert row is not None
    return row


async def _ensure_settings(session: AsyncSession, workspace_id: int, now: datetime) -> None:
    await insert_ignore(
        session,
        AmbassadorSettings,
        {
            "workspace_id": workspace_id,
            "steps_seeded": False,
            "last_request_number": 0,
            "updated_at": now,
        },
        ("workspace_id",),
    )


async def claim_seeding(session: AsyncSession, workspace_id: int, now: datetime) -> bool:
    """True once per workspace: whoever flips `steps_seeded` seeds the default checklists. The
    UPDATE locks the row, so a concurrent first use waits and then finds it flipped."""
    await _ensure_settings(session, workspace_id, now)
    flipped = await session.scalar(
        update(AmbassadorSettings)
        .where(
            AmbassadorSettings.workspace_id == workspace_id,
            AmbassadorSettings.steps_seeded.is_(False),
        )
        .values(steps_seeded=True)
        .returning(AmbassadorSettings.workspace_id)
    )
    return flipped is not None


async def next_request_number(session: AsyncSession, workspace_id: int, now: datetime) -> int:
    """Allocates the next R number: the UPDATE locks the settings row (PostgreSQL) or runs under
    SQLite's write lock, so two concurrent requests never share a number."""
    await _ensure_settings(session, workspace_id, now)
    number = await session.scalar(
        update(AmbassadorSettings)
        .where(AmbassadorSettings.workspace_id == workspace_id)
        .values(last_request_number=AmbassadorSettings.last_request_number + 1)
        .returning(AmbassadorSettings.last_request_number)
    )
    assert number is not None
    return int(number)


# ----- offices ----------------------------------------------------------------------------


async def offices(session: AsyncSession, workspace_id: int) -> list[AmbassadorOffice]:
    rows = await session.scalars(
        select(AmbassadorOffice)
        .where(AmbassadorOffice.workspace_id == workspace_id)
        .order_by(AmbassadorOffice.key)
    )
    return list(rows)


async def office(session: AsyncSession, workspace_id: int, name: str) -> AmbassadorOffice | None:
    return await session.scalar(
        select(AmbassadorOffice).where(
            AmbassadorOffice.workspace_id == workspace_id,
            AmbassadorOffice.key == name.casefold(),
        )
    )


async def add_office(
    session: AsyncSession, workspace_id: int, name: str, tz: str | None, now: datetime
) -> bool:
    """False when the workspace already has an office of that name (any case)."""
    return await insert_ignore(
        session,
        AmbassadorOffice,
        {
            "workspace_id": workspace_id,
            "name": name,
            "key": name.casefold(),
            "tz": tz,
            "covered": False,
            "created_at": now,
        },
        ("workspace_id", "key"),
    )


async def remove_office(session: AsyncSession, office_id: int) -> int:
    """Deletes the office; returns how many people had it (their office becomes none)."""
    people = await session.scalar(
        select(func.count()).where(AmbassadorPerson.office_id == office_id)
    )
    await session.execute(
        update(AmbassadorPerson)
        .where(AmbassadorPerson.office_id == office_id)
        .values(office_id=None)
    )
    await session.execute(delete(AmbassadorOffice).where(AmbassadorOffice.id == office_id))
    return int(people or 0)


# ----- people -----------------------------------------------------------------------------


async def person(session: AsyncSession, member_id: int) -> AmbassadorPerson | None:
    return await session.get(AmbassadorPerson, member_id)


async def person_row(
    session: AsyncSession, workspace_id: int, member_id: int, now: datetime
) -> AmbassadorPerson:
    row = await session.get(AmbassadorPerson, member_id)
    if row is None:
        row = AmbassadorPerson(member_id=member_id, workspace_id=workspace_id, updated_at=now)
        session.add(row)
        await session.flush()
    row.updated_at = now
    return row


async def roster(
    session: AsyncSession, workspace_id: int, statuses: Sequence[str] = (ACTIVE,)
) -> list[tuple[AmbassadorPerson, Member]]:
    rows = await session.execute(
        select(AmbassadorPerson, Member)
        .join(Member, Member.id == AmbassadorPerson.member_id)
        .where(
            AmbassadorPerson.workspace_id == workspace_id,
            AmbassadorPerson.status.in_(list(statuses)),
        )
        .order_by(func.lower(Member.display_name), Member.id)
    )
    return [(p, m) for p, m in rows]


async def office_counts(session: AsyncSession, workspace_id: int) -> dict[int | None, int]:
    """People per office (everyone who said where they work, ambassadors or not)."""
    rows = await session.execute(
        select(AmbassadorPerson.office_id, func.count())
        .where(AmbassadorPerson.workspace_id == workspace_id)
        .group_by(AmbassadorPerson.office_id)
    )
    return {office_id: int(n) for office_id, n in rows}


async def active_in_office(session: AsyncSession, office_id: int) -> int:
    n = await session.scalar(
        select(func.count()).where(
            AmbassadorPerson.office_id == office_id, AmbassadorPerson.status == ACTIVE
        )
    )
    return int(n or 0)


async def team_counts(session: AsyncSession, workspace_id: int) -> dict[str, int]:
    """Members per team (people who set one), bots left out."""
    rows = await session.execute(
        select(Member.team, func.count())
        .where(
            Member.workspace_id == workspace_id,
            Member.team.is_not(None),
            Member.is_bot.is_(False),
        )
        .group_by(Member.team)
    )
    return {str(team): int(n) for team, n in rows}


async def members_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Member]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return {}
    rows = await session.scalars(select(Member).where(Member.id.in_(unique)))
    return {m.id: m for m in rows}


# ----- training ---------------------------------------------------------------------------


async def steps(session: AsyncSession, workspace_id: int, track: str) -> list[TrainingStep]:
    rows = await session.scalars(
        select(TrainingStep)
        .where(TrainingStep.workspace_id == workspace_id, TrainingStep.track == track)
        .order_by(TrainingStep.position, TrainingStep.id)
    )
    return list(rows)


async def add_step(
    session: AsyncSession,
    workspace_id: int,
    track: str,
    position: int,
    title: str,
    link: str | None,
    now: datetime,
) -> TrainingStep:
    step = TrainingStep(
        workspace_id=workspace_id,
        track=track,
        position=position,
        title=title,
        link=link,
        created_at=now,
    )
    session.add(step)
    await session.flush()
    return step


async def delete_step(session: AsyncSession, step_id: int) -> None:
    await session.execute(delete(TrainingTick).where(TrainingTick.step_id == step_id))
    await session.execute(delete(TrainingStep).where(TrainingStep.id == step_id))


async def progress(session: AsyncSession, member_id: int, track: str) -> TrainingProgress | None:
    return await session.get(TrainingProgress, (member_id, track))


async def start_progress(
    session: AsyncSession, workspace_id: int, member_id: int, track: str, now: datetime
) -> bool:
    """Starts a checklist run; False when the person already has one on this track."""
    return await insert_ignore(
        session,
        TrainingProgress,
        {
            "member_id": member_id,
            "track": track,
            "workspace_id": workspace_id,
            "started_at": now,
            "last_progress_at": now,
        },
        ("member_id", "track"),
    )


async def ticked(session: AsyncSession, member_id: int, step_ids: Sequence[int]) -> set[int]:
    if not step_ids:
        return set()
    rows = await session.scalars(
        select(TrainingTick.step_id).where(
            TrainingTick.member_id == member_id, TrainingTick.step_id.in_(list(step_ids))
        )
    )
    return set(rows)


async def tick(session: AsyncSession, member_id: int, step_id: int, now: datetime) -> bool:
    """False when the step was ticked before."""
    return await insert_ignore(
        session,
        TrainingTick,
        {"member_id": member_id, "step_id": step_id, "done_at": now},
        ("member_id", "step_id"),
    )


async def open_progress(
    session: AsyncSession, workspace_id: int
) -> list[tuple[TrainingProgress, Member]]:
    rows = await session.execute(
        select(TrainingProgress, Member)
        .join(Member, Member.id == TrainingProgress.member_id)
        .where(
            TrainingProgress.workspace_id == workspace_id,
            TrainingProgress.completed_at.is_(None),
        )
        .order_by(TrainingProgress.last_progress_at, Member.id)
    )
    return [(p, m) for p, m in rows]


async def completed_count(session: AsyncSession, workspace_id: int, track: str) -> int:
    n = await session.scalar(
        select(func.count()).where(
            TrainingProgress.workspace_id == workspace_id,
            TrainingProgress.track == track,
            TrainingProgress.completed_at.is_not(None),
        )
    )
    return int(n or 0)


# ----- community requests -----------------------------------------------------------------


async def add_request(session: AsyncSession, **values: object) -> CommunityRequest:
    request = CommunityRequest(**values)
    session.add(request)
    await session.flush()
    return request


async def request_by_number(
    session: AsyncSession, workspace_id: int, number: int
) -> CommunityRequest | None:
    return await session.scalar(
        select(CommunityRequest).where(
            CommunityRequest.workspace_id == workspace_id, CommunityRequest.number == number
        )
    )


async def requests_named(
    session: AsyncSession, workspace_id: int, name: str, statuses: Sequence[str]
) -> list[CommunityRequest]:
    rows = await session.scalars(
        select(CommunityRequest)
        .where(
            CommunityRequest.workspace_id == workspace_id,
            CommunityRequest.name == name,
            CommunityRequest.status.in_(list(statuses)),
        )
        .order_by(CommunityRequest.number)
    )
    return list(rows)


async def requests(
    session: AsyncSession, workspace_id: int, statuses: Sequence[str] | None
) -> list[CommunityRequest]:
    query = select(CommunityRequest).where(CommunityRequest.workspace_id == workspace_id)
    if statuses is not None:
        query = query.where(CommunityRequest.status.in_(list(statuses)))
    rows = await session.scalars(query.order_by(CommunityRequest.number))
    return list(rows)


async def add_change(
    session: AsyncSession,
    *,
    request_id: int,
    actor_id: int | None,
    kind: str,
    note: str | None,
    now: datetime,
) -> CommunityChange:
    change = CommunityChange(
        request_id=request_id, actor_id=actor_id, kind=kind, note=note, created_at=now
    )
    session.add(change)
    await session.flush()
    return change


async def changes(session: AsyncSession, request_id: int) -> list[CommunityChange]:
    rows = await session.scalars(
        select(CommunityChange)
        .where(CommunityChange.request_id == request_id)
        .order_by(CommunityChange.id)
    )
    return list(rows)


async def last_filing(session: AsyncSession, request_id: int) -> CommunityChange | None:
    """The latest "filed" or "revised" change: its id keys the review cards of that version."""
    return await session.scalar(
        select(CommunityChange)
        .where(
            CommunityChange.request_id == request_id,
            CommunityChange.kind.in_(["filed", "revised"]),
        )
        .order_by(CommunityChange.id.desc())
        .limit(1)
    )


async def managed_by(session: AsyncSession, member_id: int) -> list[CommunityRequest]:
    """The approved communities whose manager `member_id` is (their requester)."""
    rows = await session.scalars(
        select(CommunityRequest)
        .where(CommunityRequest.requester_id == member_id, CommunityRequest.status == "approved")
        .order_by(CommunityRequest.number)
    )
    return list(rows)
