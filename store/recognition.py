"""Recognition queries: counters, kudos totals per period, leaderboards, preferences."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, not_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import (
    Kudos,
    KudosTotal,
    KudosValue,
    Member,
    MemberCounter,
    MemberPreference,
    RewardPreference,
    ThankedPair,
)


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


# ----- counters -------------------------------------------------------------------------


async def bump_counter(session: AsyncSession, member_id: int, counter: str, delta: int) -> int:
    """Adds `delta` (never below zero) and returns the new value."""
    pg = _is_postgres(session)
    insert = postgresql.insert if pg else sqlite.insert
    # SQLite's two-argument max() is PostgreSQL's greatest().
    floor = (func.greatest if pg else func.max)(MemberCounter.value + delta, 0)
    stmt = insert(MemberCounter).values(member_id=member_id, counter=counter, value=max(delta, 0))
    stmt = stmt.on_conflict_do_update(
        index_elements=["member_id", "counter"], set_={"value": floor}
    )
    await session.execute(stmt)
    return await get_counter(session, member_id, counter)


async def set_counter(session: AsyncSession, member_id: int, counter: str, value: int) -> None:
    row = await session.get(MemberCounter, (member_id, counter))
    if row is None:
        session.add(MemberCounter(member_id=member_id, counter=counter, value=value))
    else:
        row.value = value


async def get_counter(session: AsyncSession, member_id: int, counter: str) -> int:
    value = await session.scalar(
        select(MemberCounter.value).where(
            MemberCounter.member_id == member_id, MemberCounter.counter == counter
        )
    )
    return int(value or 0)


async def members_at_least(
    session: AsyncSession, workspace_id: int, counter: str, threshold: int
) -> list[tuple[Member, int]]:
    rows = await session.execute(
        select(Member, MemberCounter.value)
        .join(MemberCounter, MemberCounter.member_id == Member.id)
        .where(
            Member.workspace_id == workspace_id,
            MemberCounter.counter == counter,
            MemberCounter.value >= threshold,
        )
        .order_by(Member.display_name, Member.id)
    )
    return [(m, int(v)) for m, v in rows]


async def first_thanks(session: AsyncSession, giver_id: int, recipient_id: int) -> bool:
    """Records that giver thanked recipient; True the first time."""
    return await insert_ignore(
        session,
        ThankedPair,
        {"giver_id": giver_id, "recipient_id": recipient_id},
        ("giver_id", "recipient_id"),
    )


# ----- totals per period ----------------------------------------------------------------


async def add_to_totals(
    session: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    periods: Sequence[tuple[str, date]],
    values: Iterable[str],
    received: int = 0,
    given: int = 0,
) -> None:
    insert = postgresql.insert if _is_postgres(session) else sqlite.insert
    rows = [
        {
            "workspace_id": workspace_id,
            "period": period,
            "period_start": start,
            "value": value,
            "member_id": member_id,
            "received": max(received, 0),
            "given": max(given, 0),
        }
        for period, start in periods
        for value in ("", *values)
    ]
    stmt = insert(KudosTotal).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "period", "period_start", "value", "member_id"],
        set_={
            "received": KudosTotal.received + received,
            "given": KudosTotal.given + given,
        },
    )
    await session.execute(stmt)


@dataclass(frozen=True, slots=True)
class Standing:
    member: Member
    count: int
    rank: int


def _board_filter(
    workspace_id: int, period: str, start: date, value: str, team: str | None
) -> list[object]:
    opted_out = exists().where(
        MemberPreference.member_id == KudosTotal.member_id,
        MemberPreference.leaderboard_opt_out.is_(True),
    )
    where: list[object] = [
        KudosTotal.workspace_id == workspace_id,
        KudosTotal.period == period,
        KudosTotal.period_start == start,
        KudosTotal.value == value,
        not_(opted_out),
    ]
    if team is not None:
        where.append(
            KudosTotal.member_id.in_(
                select(Member.id).where(Member.workspace_id == workspace_id, Member.team == team)
            )
        )
    return where


async def leaderboard(
    session: AsyncSession,
    *,
    workspace_id: int,
    period: str,
    start: date,
    value: str,
    column: str,
    team: str | None,
    limit: int = 10,
) -> list[Standing]:
    """The top of the board; people tied share a rank (1, 2, 2, 4)."""
    count = getattr(KudosTotal, column)
    where = _board_filter(workspace_id, period, start, value, team)
    rows = (
        await session.execute(
            select(Member, count)
            .join(Member, Member.id == KudosTotal.member_id)
            .where(*where, count > 0)  # type: ignore[arg-type]
            .order_by(count.desc(), KudosTotal.member_id)
            .limit(limit)
        )
    ).all()
    out: list[Standing] = []
    for i, (member, n) in enumerate(rows):
        rank = out[-1].rank if out and out[-1].count == n else i + 1
        out.append(Standing(member, int(n), rank))
    return out


async def standing_of(
    session: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    period: str,
    start: date,
    value: str,
    column: str,
    team: str | None,
) -> tuple[int, int] | None:
    """(count, rank) of one person on a board, or None when they have nothing there."""
    count = getattr(KudosTotal, column)
    mine = await session.scalar(
        select(count).where(
            KudosTotal.workspace_id == workspace_id,
            KudosTotal.period == period,
            KudosTotal.period_start == start,
            KudosTotal.value == value,
            KudosTotal.member_id == member_id,
        )
    )
    if not mine:
        return None
    above = await session.scalar(
        select(func.count())
        .select_from(KudosTotal)
        .where(*_board_filter(workspace_id, period, start, value, team), count > mine)  # type: ignore[arg-type]
    )
    return int(mine), int(above or 0) + 1


async def member_totals(
    session: AsyncSession, workspace_id: int, member_id: int, period: str, start: date
) -> tuple[int, int]:
    row = (
        await session.execute(
            select(KudosTotal.received, KudosTotal.given).where(
                KudosTotal.workspace_id == workspace_id,
                KudosTotal.period == period,
                KudosTotal.period_start == start,
                KudosTotal.value == "",
                KudosTotal.member_id == member_id,
            )
        )
    ).first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


async def top_values(
    session: AsyncSession, workspace_id: int, member_id: int, limit: int = 3
) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(KudosTotal.value, KudosTotal.received)
        .where(
            KudosTotal.workspace_id == workspace_id,
            KudosTotal.period == "all",
            KudosTotal.member_id == member_id,
            KudosTotal.value != "",
            KudosTotal.received > 0,
        )
        .order_by(KudosTotal.received.desc(), KudosTotal.value)
        .limit(limit)
    )
    return [(v, int(n)) for v, n in rows]


async def recent_thanks(
    session: AsyncSession, member_id: int, limit: int = 3
) -> list[tuple[Kudos, Member]]:
    rows = await session.execute(
        select(Kudos, Member)
        .join(Member, Member.id == Kudos.giver_id)
        .where(Kudos.recipient_id == member_id, Kudos.revoked_at.is_(None))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(limit)
    )
    return [(k, m) for k, m in rows]


async def kudos_values(session: AsyncSession, kudos_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {k: [] for k in kudos_ids}
    if kudos_ids:
        rows = await session.execute(
            select(KudosValue.kudos_id, KudosValue.value).where(KudosValue.kudos_id.in_(kudos_ids))
        )
        for kid, value in rows:
            out[kid].append(value)
    return out


# ----- preferences ------------------------------------------------------------------------


async def preferences(session: AsyncSession, member_id: int) -> MemberPreference | None:
    return await session.get(MemberPreference, member_id)


async def update_preferences(
    session: AsyncSession,
    member_id: int,
    now: datetime,
    *,
    leaderboard_opt_out: bool | None = None,
    announce_opt_out: bool | None = None,
    home_opened: bool = False,
) -> MemberPreference:
    row = await session.get(MemberPreference, member_id)
    if row is None:
        row = MemberPreference(
            member_id=member_id, leaderboard_opt_out=False, announce_opt_out=False, updated_at=now
        )
        session.add(row)
    if leaderboard_opt_out is not None:
        row.leaderboard_opt_out = leaderboard_opt_out
    if announce_opt_out is not None:
        row.announce_opt_out = announce_opt_out
    if home_opened:
        row.home_opened_at = now
    row.updated_at = now
    return row


async def reward_preferences(session: AsyncSession, member_id: int) -> list[RewardPreference]:
    rows = await session.scalars(
        select(RewardPreference)
        .where(RewardPreference.member_id == member_id)
        .order_by(RewardPreference.kind)
    )
    return list(rows)


async def set_reward(
    session: AsyncSession, member_id: int, kind: str, note: str | None, now: datetime
) -> None:
    row = await session.get(RewardPreference, (member_id, kind))
    if row is None:
        session.add(RewardPreference(member_id=member_id, kind=kind, note=note, updated_at=now))
    else:
        row.note, row.updated_at = note, now


async def remove_reward(session: AsyncSession, member_id: int, kind: str) -> bool:
    row = await session.get(RewardPreference, (member_id, kind))
    if row is None:
        return False
    await session.delete(row)
    return True
