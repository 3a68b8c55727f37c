"""Recognition queries: counters, kudos totals per period, leaderboards, preferences.

The statements a kudos runs (counters, totals, score counts) are Core statements built once per
dialect and executed with one parameter set per row: SQLAlchemy caches their compiled form and
sends each as one multi-row INSERT (its "insertmanyvalues" batching). Their ON CONFLICT clauses
take every per-row value from `excluded`, which that batching needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    case,
    event,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from store.models import (
    SCORE_SHARDS,
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

STREAK = "give_streak_weeks"
LAST_GIVE_WEEK = "last_give_week"  # bookkeeping for the streak, not a rule counter

_counters: Table = MemberCounter.__table__  # type: ignore[assignment]
_totals: Table = KudosTotal.__table__  # type: ignore[assignment]
_scores: Table = KudosScoreCount.__table__  # type: ignore[assignment]
_pairs: Table = ThankedPair.__table__  # type: ignore[assignment]
_prefs: Table = MemberPreference.__table__  # type: ignore[assignment]


def _is_postgres(session: AsyncSession | Session) -> bool:
    bind = session.get_bind() if isinstance(session, Session) else session.bind
    return bind is not None and bind.dialect.name == "postgresql"


_built: dict[tuple[str, bool, object], Any] = {}


def _once(name: str, pg: bool, build: Callable[[bool], Any], variant: object = None) -> Any:
    """A statement built once per dialect (and variant), then reused."""
    key = (name, pg, variant)
    stmt = _built.get(key)
    if stmt is None:
        stmt = _built[key] = build(pg)
    return stmt


def _text(value: str) -> Any:
    """A string constant in SQL (not a bound parameter: insertmanyvalues batches an upsert only
    when its ON CONFLICT clause has none)."""
    assert "'" not in value
    return literal_column(f"'{value}'")


# ----- counters -------------------------------------------------------------------------


def _counters_upsert(pg: bool, week: int | None) -> Any:
    """Adds `value` to each row's counter (a positive delta); with `week`, also the giver's
    weekly streak: its row (value 1) is +1 when their last week giving was the one before, reset
    to 1 otherwise, untouched within the same week; the last-week row (value: the week) follows.
    Rows are processed in their order and read the last week before this statement changes it
    (PostgreSQL: every subquery sees the statement's snapshot; SQLite: the streak's row comes
    before the last week's), so the streak's row must come first."""
    ins = (postgresql.insert if pg else sqlite.insert)(_counters)
    c, ex = _counters.c, ins.excluded
    value: Any = c.value + ex.value
    where: Any = None
    if week is not None:
        last = _counters.alias("last")
        last_week = (
            select(last.c.value)
            .where(
                last.c.member_id == literal_column("excluded.member_id"),
                last.c.counter == _text(LAST_GIVE_WEEK),
            )
            .scalar_subquery()
        )
        # The week is part of the statement's text (an integer: one cached statement per week).
        this_week: Any = literal_column(str(int(week)))
        week_before: Any = literal_column(str(int(week) - 7))
        value = case(
            (ex.counter == _text(STREAK), case((last_week == week_before, c.value + 1), else_=1)),
            (ex.counter == _text(LAST_GIVE_WEEK), ex.value),
            else_=value,
        )
        where = or_(
            and_(ex.counter != _text(STREAK), ex.counter != _text(LAST_GIVE_WEEK)),
            func.coalesce(last_week, -1) != this_week,
        )
    stmt = ins.on_conflict_do_update(
        index_elements=[c.member_id, c.counter], set_={"value": value}, where=where
    )
    return stmt.returning(c.member_id, c.counter, c.value)


async def bump_counters(
    session: AsyncSession,
    bumps: Sequence[tuple[int, str]],
    delta: int,
    *,
    streak: tuple[int, int] | None = None,
) -> dict[tuple[int, str], int]:
    """Adds `delta` to each (member, counter), never below zero, in one statement; with
    `streak` (giver, week ordinal of their Monday, delta > 0 only), also keeps their weekly
    streak of giving. Returns the new values of the rows it changed ((giver, STREAK) is there
    only when the streak moved; a counter that stayed at zero may be missing: read it as 0)."""
    if not bumps and streak is None:
        return {}
    pg = _is_postgres(session)
    if delta < 0:
        if streak is not None:
            raise ValueError("a streak only grows")
        floor = (func.greatest if pg else func.max)(_counters.c.value + delta, 0)
        which = or_(
            *(
                and_(_counters.c.member_id == member, _counters.c.counter == counter)
                for member, counter in bumps
            )
        )
        stmt = (
            sql_update(_counters)
            .where(which)
            .values(value=floor)
            .returning(_counters.c.member_id, _counters.c.counter, _counters.c.value)
        )
        rows = (await session.execute(stmt)).all()
    else:
        params = [{"member_id": m, "counter": c, "value": delta} for m, c in bumps]
        week = None
        if streak is not None:
            giver, week = streak
            params.append({"member_id": giver, "counter": STREAK, "value": 1})
            params.append({"member_id": giver, "counter": LAST_GIVE_WEEK, "value": week})
        stmt = _once("counters", pg, lambda pg: _counters_upsert(pg, week), week)
        rows = (await session.execute(stmt, params)).all()
    return {(int(m), str(c)): int(v) for m, c, v in rows}


async def bump_counter(session: AsyncSession, member_id: int, counter: str, delta: int) -> int:
    """Adds `delta` (never below zero) and returns the new value."""
    changed = await bump_counters(session, [(member_id, counter)], delta)
    return changed.get((member_id, counter), 0)


async def set_counter(session: AsyncSession, member_id: int, counter: str, value: int) -> None:
    row = await session.get(MemberCounter, (member_id, counter))
    if row is None:
        session.add(MemberCounter(member_id=member_id, counter=counter, value=value))
    else:
        row.value = value


async def get_counter(session: AsyncSession, member_id: int, counter: str) -> int:
    c = _counters.c
    value = await session.scalar(
        select(c.value).where(c.member_id == member_id, c.counter == counter)
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
    pg = _is_postgres(session)
    stmt = _once(
        "pair",
        pg,
        lambda pg: (postgresql.insert if pg else sqlite.insert)(_pairs).on_conflict_do_nothing(
            index_elements=[_pairs.c.giver_id, _pairs.c.recipient_id]
        ),
    )
    result = await session.execute(stmt, {"giver_id": giver_id, "recipient_id": recipient_id})
    return bool(getattr(result, "rowcount", 0))


# ----- totals per period ----------------------------------------------------------------


def _totals_upsert(pg: bool) -> Any:
    ins = (postgresql.insert if pg else sqlite.insert)(_totals)
    t, ex = _totals.c, ins.excluded
    stmt = ins.on_conflict_do_update(
        index_elements=[t.workspace_id, t.period, t.period_start, t.value, t.member_id],
        set_={"received": t.received + ex.received, "given": t.given + ex.given},
    )
    return stmt.returning(t.member_id, t.period, t.period_start, t.value, t.received, t.given)


async def add_to_totals(
    session: AsyncSession,
    *,
    workspace_id: int,
    periods: Sequence[tuple[str, date]],
    values: Iterable[str],
    received_by: int | None = None,
    given_by: int | None = None,
    delta: int,
) -> None:
    """Counts one kudos (delta +1) or takes it back (-1) in the totals of every period and value:
    `received_by` its recipient's, `given_by` its giver's, both in one statement (the
    recipient's rows first, as before they were two)."""
    members = list(dict.fromkeys(m for m in (received_by, given_by) if m is not None))
    if not members or not delta:
        return
    keys = [(period, start, value) for period, start in periods for value in ("", *values)]
    t = _totals.c
    if delta > 0:
        params = [
            {
                "workspace_id": workspace_id,
                "period": period,
                "period_start": start,
                "value": value,
                "member_id": member,
                "received": delta if member == received_by else 0,
                "given": delta if member == given_by else 0,
            }
            for member in members
            for period, start, value in keys
        ]
        stmt = _once("totals", _is_postgres(session), _totals_upsert)
        totals = (await session.execute(stmt, params)).all()
    else:  # a take-back: the rows exist (the kudos was counted); nothing to insert
        received = case((t.member_id == (received_by or -1), delta), else_=0)
        given = case((t.member_id == (given_by or -1), delta), else_=0)
        which = or_(
            *(and_(t.period == period, t.period_start == start) for period, start in periods)
        )
        stmt = (
            sql_update(_totals)
            .where(
                t.workspace_id == workspace_id,
                t.member_id.in_(members),
                which,
                t.value.in_(["", *values]),
            )
            .values(received=t.received + received, given=t.given + given)
            .returning(t.member_id, t.period, t.period_start, t.value, t.received, t.given)
        )
        totals = (await session.execute(stmt)).all()
    # Each total that changed moves its person from one score to another on its board.
    for direction, member in (("received", received_by), ("given", given_by)):
        if member is None:
            continue
        moves: Moves = Counter()
        for of, period, start, value, now_received, now_given in totals:
            if of != member:
                continue
            new = now_received if direction == "received" else now_given
            if new - delta > 0:
                moves[(period, start, value, new - delta)] -= 1
            if new > 0:
                moves[(period, start, value, new)] += 1
        _defer_moves(session, workspace_id, member, direction, moves)


# (period, start, value, score) -> change in the number of people with that score
Moves = Counter[tuple[str, date, str, int]]
_PENDING = "allybot.score_moves"
_SCORE_KEY = ["workspace_id", "period", "period_start", "value", "direction", "score", "shard"]


def _defer_moves(
    session: AsyncSession, workspace_id: int, member_id: int, direction: str, moves: Moves
) -> None:
    """Score counts change at the commit. Their rows are shared by everyone on a board, so their
    locks are taken last, in one order, and held only for the commit: taken in the middle of a
    kudos, before the giver's totals, two kudos sharing a person deadlocked on PostgreSQL."""
    pending: dict[tuple[int, int, str], Moves] = session.sync_session.info.setdefault(_PENDING, {})
    pending.setdefault((member_id, workspace_id, direction), Counter()).update(moves)


# Listened to on every session (a no-op for those with no moves pending): listening on each
# session that has some cost more than the listeners themselves.
@event.listens_for(Session, "after_rollback")
def _forget_moves(sync: Session) -> None:
    sync.info.pop(_PENDING, None)


@event.listens_for(Session, "before_commit")
def _apply_moves(sync: Session) -> None:
    """Applies the transaction's score moves, leaving out people hidden from leaderboards."""
    pending: dict[tuple[int, int, str], Moves] = sync.info.pop(_PENDING, {})
    if not pending:
        return
    pg = _is_postgres(sync)
    members = sorted({member for member, _, _ in pending})
    if pg:  # after any change of the same people's preference, which waits for this commit
        locks = _once("board_locks", pg, partial(_board_locks, len(members)), len(members))
        sync.execute(locks, {f"k{i}": _key(m) for i, m in enumerate(members)})
    # Each person's moves unless they are hidden (read in the same statement), in one order.
    rows = [
        {**row, "member": member}
        for (member, workspace_id, direction), moves in pending.items()
        for row in _score_rows({(direction, workspace_id): moves}, member)
    ]
    rows.sort(key=_row_order)
    if rows:
        sync.flush()  # preferences changed in this transaction first
        sync.execute(_once("visible_scores", pg, _visible_scores_upsert), rows)


def _row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Received before given, then by workspace, board, score and shard (as in _score_rows)."""
    return (
        row["direction"] != "received",
        row["workspace_id"],
        row["period"],
        row["period_start"],
        row["value"],
        row["score"],
        row["shard"],
        row["member"],
    )


def _visible_scores_upsert(pg: bool) -> Any:
    """Adds one person's move to a score count unless they are hidden from leaderboards: one
    statement run once per row (executemany), in the rows' order, each reading the person's
    preference as it is then."""
    s, p = _scores.c, _prefs.c
    hidden = exists().where(p.member_id == bindparam("member"), p.leaderboard_opt_out.is_(True))
    names = [*_SCORE_KEY, "people"]
    source = select(*(bindparam(n, type_=s[n].type) for n in names)).where(~hidden)
    ins = (postgresql.insert if pg else sqlite.insert)(_scores).from_select(names, source)
    return ins.on_conflict_do_update(
        index_elements=_SCORE_KEY, set_={"people": s.people + ins.excluded.people}
    )


def _board_locks(n: int, pg: bool) -> Any:
    """Shared locks on n people's places on the leaderboards, taken in the parameters' order."""
    return select(
        *(
            func.pg_advisory_xact_lock_shared(_BOARDS_LOCK, bindparam(f"k{i}", type_=Integer))
            for i in range(n)
        )
    )


def _key(member_id: int) -> int:
    return member_id & 0x7FFFFFFF  # advisory locks take 32-bit keys


def _scores_upsert(pg: bool) -> Any:
    ins = (postgresql.insert if pg else sqlite.insert)(_scores)
    stmt = ins.on_conflict_do_update(
        index_elements=_SCORE_KEY, set_={"people": _scores.c.people + ins.excluded.people}
    )
    # RETURNING makes it one multi-row INSERT (in the rows' order), not one per row.
    return stmt.returning(_scores.c.people)


def _score_rows(moves: dict[tuple[str, int], Moves], member_id: int) -> list[dict[str, Any]]:
    """Rows adding one person's moves ((direction, workspace) -> moves) to the score counts, in
    one order for every transaction (received before given, then by key), so that concurrent
    ones lock the shared rows in that order; in the person's shard of each count."""
    shard = member_id % SCORE_SHARDS
    return [
        {
            "workspace_id": workspace_id,
            "period": period,
            "period_start": start,
            "value": value,
            "direction": direction,
            "score": score,
            "shard": shard,
            "people": people,
        }
        for direction, workspace_id in sorted(moves, key=lambda k: (k[0] != "received", k[1]))
        for (period, start, value, score), people in sorted(moves[direction, workspace_id].items())
        if people
    ]


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
    changes = _score_rows(moves, member_id)
    if changes:
        pg = _is_postgres(session)
        await session.execute(_once("scores", pg, _scores_upsert), changes)


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


_HOME_USERS = select(_prefs.c.member_id).where(
    _prefs.c.member_id.in_(bindparam("ids", expanding=True)), _prefs.c.home_opened_at.is_not(None)
)


async def home_users(session: AsyncSession, member_ids: Sequence[int]) -> set[int]:
    """Which of these members opened their home view at some time: one statement."""
    if not member_ids:
        return set()
    return set((await session.scalars(_HOME_USERS, {"ids": list(member_ids)})).all())


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
