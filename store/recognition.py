"""Recognition queries: counters, kudos totals per period, leaderboards, preferences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, exists, func, not_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from store.common import insert_ignore
from store.models import (
    Kudos,
    KudosScoreCount,
    KudosTotal,
    KudosValue,
    Member,
    MemberCounter,
    MemberPreference,
    RewardPreference,
    ThankedPair,
)

# Advisory lock class of "a person's place on the leaderboards" (PostgreSQL).
_BOARDS_LOCK = 0x4B554430


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
    totals = (
        await session.execute(
            stmt.returning(
                KudosTotal.period,
                KudosTotal.period_start,
                KudosTotal.value,
                KudosTotal.received,
                KudosTotal.given,
            )
        )
    ).all()
    # Each total that changed moves its person from one score to another on its board.
    for direction, delta in (("received", received), ("given", given)):
        if not delta:
            continue
        moves: Moves = Counter()
        for period, start, value, now_received, now_given in totals:
            new = now_received if direction == "received" else now_given
            if new - delta > 0:
                moves[(period, start, value, new - delta)] -= 1
            if new > 0:
                moves[(period, start, value, new)] += 1
        _defer_moves(session, workspace_id, member_id, direction, moves)


# (period, start, value, score) -> change in the number of people with that score
Moves = Counter[tuple[str, date, str, int]]
_PENDING = "allybot.score_moves"
_SCORE_KEY = ["workspace_id", "period", "period_start", "value", "direction", "score"]


def _defer_moves(
    session: AsyncSession, workspace_id: int, member_id: int, direction: str, moves: Moves
) -> None:
    """Score counts change at the commit. Their rows are shared by everyone on a board, so their
    locks are taken last, in one order, and held only for the commit: taken in the middle of a
    kudos, before the giver's totals, two kudos sharing a person deadlocked on PostgreSQL."""
    sync = session.sync_session
    if not event.contains(sync, "before_commit", _apply_moves):
        event.listen(sync, "before_commit", _apply_moves)
        event.listen(sync, "after_rollback", _forget_moves)
    pending: dict[tuple[int, int, str], Moves] = sync.info.setdefault(_PENDING, {})
    pending.setdefault((member_id, workspace_id, direction), Counter()).update(moves)


def _forget_moves(sync: Session) -> None:
    sync.info.pop(_PENDING, None)


def _apply_moves(sync: Session) -> None:
    """Applies the transaction's score moves, leaving out people hidden from leaderboards."""
    pending: dict[tuple[int, int, str], Moves] = sync.info.pop(_PENDING, {})
    if not pending:
        return
    pg = sync.get_bind().dialect.name == "postgresql"
    members = sorted({member for member, _, _ in pending})
    if pg:  # after any change of the same people's preference, which waits for this commit
        sync.execute(
            select(*(func.pg_advisory_xact_lock_shared(_BOARDS_LOCK, _key(m)) for m in members))
        )
    hidden = set(
        sync.scalars(
            select(MemberPreference.member_id).where(
                MemberPreference.member_id.in_(members),
                MemberPreference.leaderboard_opt_out.is_(True),
            )
        )
    )
    merged: dict[tuple[str, int], Moves] = {}
    for (member, workspace_id, direction), moves in pending.items():
        if member not in hidden:
            merged.setdefault((direction, workspace_id), Counter()).update(moves)
    for stmt in _score_upserts(pg, merged):
        sync.execute(stmt)


def _key(member_id: int) -> int:
    return member_id & 0x7FFFFFFF  # advisory locks take 32-bit keys


def _score_upserts(pg: bool, moves: dict[tuple[str, int], Moves]) -> list[Any]:
    """Statements adding moves ((direction, workspace) -> moves) to the score counts, in one
    order for every transaction (received before given, then by key), so that concurrent ones
    lock the shared rows in that order."""
    rows = [
        {
            "workspace_id": workspace_id,
            "period": period,
            "period_start": start,
            "value": value,
            "direction": direction,
            "score": score,
            "people": people,
        }
        for direction, workspace_id in sorted(moves, key=lambda k: (k[0] != "received", k[1]))
        for (period, start, value, score), people in sorted(moves[direction, workspace_id].items())
        if people
    ]
    insert = postgresql.insert if pg else sqlite.insert
    out = []
    for i in range(0, len(rows), 1000):  # within the drivers' limits on parameters
        stmt = insert(KudosScoreCount).values(rows[i : i + 1000])
        stmt = stmt.on_conflict_do_update(
            index_elements=_SCORE_KEY,
            set_={"people": KudosScoreCount.people + stmt.excluded.people},
        )
        out.append(stmt)
    return out


async def _recount(session: AsyncSession, member_id: int, sign: int) -> None:
    """Takes a person off the score counts of every board they are on (-1), or puts them back.
    The caller holds the person's advisory lock (PostgreSQL), so no kudos of theirs is between
    its totals and its score counts."""
    await session.run_sync(_apply_moves)  # this transaction's own kudos, if any, first
    moves: dict[tuple[str, int], Moves] = {}
    rows = await session.execute(
        select(
            KudosTotal.workspace_id,
            KudosTotal.period,
            KudosTotal.period_start,
            KudosTotal.value,
            KudosTotal.received,
            KudosTotal.given,
        ).where(KudosTotal.member_id == member_id)
    )
    for workspace_id, period, start, value, received, given in rows:
        for direction, score in (("received", received), ("given", given)):
            if score > 0:
                counter = moves.setdefault((direction, workspace_id), Counter())
                counter[(period, start, value, score)] += sign
    for stmt in _score_upserts(_is_postgres(session), moves):
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
    if team is not None:  # a team's board is a slice: count the people above in it
        above = await session.scalar(
            select(func.count())
            .select_from(KudosTotal)
            .where(*_board_filter(workspace_id, period, start, value, team), count > mine)  # type: ignore[arg-type]
        )
        return int(mine), int(above or 0) + 1
    # Counting the people above one by one took 15-40 ms near the bottom of a board of 100,000:
    # add up the people per score above instead (a few hundred scores).
    above = await session.scalar(
        select(func.coalesce(func.sum(KudosScoreCount.people), 0)).where(
            KudosScoreCount.workspace_id == workspace_id,
            KudosScoreCount.period == period,
            KudosScoreCount.period_start == start,
            KudosScoreCount.value == value,
            KudosScoreCount.direction == column,
            KudosScoreCount.score > mine,
        )
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
            # "> ''" rather than "!= ''": a range on ix_kudos_totals_member, which SQLite then
            # picks even without ANALYZE statistics (it scanned a whole board, 50 ms, instead).
            KudosTotal.value > "",
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
    if leaderboard_opt_out is not None and _is_postgres(session):
        # Kudos of this person wait (their score counts, at their commit) until this commits.
        await session.execute(select(func.pg_advisory_xact_lock(_BOARDS_LOCK, _key(member_id))))
    # Read again under the lock: a concurrent change must not be undone twice.
    row = await session.get(MemberPreference, member_id, populate_existing=True)
    if row is None:
        row = MemberPreference(
            member_id=member_id, leaderboard_opt_out=False, announce_opt_out=False, updated_at=now
        )
        session.add(row)
    if leaderboard_opt_out is not None:
        if leaderboard_opt_out != row.leaderboard_opt_out:
            await _recount(session, member_id, -1 if leaderboard_opt_out else 1)
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
