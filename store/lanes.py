"""Paced lanes: each lane's next allowed send, read and moved under a row lock.

The pacing rule itself is the caller's (bot/pacing.py), given as a `LanePolicy`; this module only
keeps the times. A missing row is an idle lane: rows are created when a lane is first claimed
and pruned once they are long past.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Lane

# What a new row holds: long past, so the lane's first sends may use its whole burst.
IDLE = datetime(2000, 1, 1, tzinfo=UTC)


class LanePolicy(Protocol):
    def paced(self, lane: str) -> bool:
        """Whether sends on `lane` are spaced (else only a pushed `next_at` holds them)."""
        ...

    def admit(self, lane: str, next_at: datetime, now: datetime) -> datetime | None:
        """The lane's new next_at when a send may start at `now`, or None when it must wait."""
        ...


_table: Table = Lane.__table__  # type: ignore[assignment]
_MOVE = (
    update(_table)
    .where(_table.c.key == bindparam("lane_key"))
    .values(next_at=bindparam("at", type_=_table.c.next_at.type))
)


# Built once: a claim runs both, and building them per call cost more than running them.
_ENSURE = {
    name: insert(_table).on_conflict_do_nothing(index_elements=["key"])
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_LOCK = (
    select(_table.c.key, _table.c.next_at)
    .where(_table.c.key.in_(bindparam("keys", expanding=True)))
    .order_by(_table.c.key)
)
_LOCK_SKIPPING = _LOCK.with_for_update(skip_locked=True)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def ensure(session: AsyncSession, keys: Iterable[str]) -> None:
    """Creates the rows of lanes never seen (or pruned), as idle; existing rows are untouched.

    Keys are inserted in sorted order, so two workers creating the same new lanes wait for each
    other in one order and never deadlock.
    """
    rows = [{"key": key, "next_at": IDLE} for key in sorted(set(keys))]
    if not rows:
        return
    stmt = _ENSURE["postgresql" if _is_postgresql(session) else "sqlite"]
    await session.execute(stmt, rows)


async def lock(session: AsyncSession, keys: Iterable[str]) -> dict[str, datetime]:
    """The lanes' next_at, their rows locked until the transaction ends. On PostgreSQL a lane
    another worker holds is left out (SKIP LOCKED): its jobs wait for the next claim. (On SQLite
    the transaction holds the database's write lock already.)"""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    stmt = _LOCK_SKIPPING if _is_postgresql(session) else _LOCK
    # Core rows: the row as locked now, never an ORM object this session may have cached.
    rows = await session.execute(stmt, {"keys": wanted})
    return {key: at for key, at in rows}


async def move(session: AsyncSession, moves: dict[str, datetime]) -> None:
    """Sets the next_at of lanes this transaction locked (`lock`), in one statement."""
    if moves:
        await session.execute(
            _MOVE, [{"lane_key": key, "at": at} for key, at in sorted(moves.items())]
        )


async def push(session: AsyncSession, key: str, until: datetime) -> datetime:
    """Holds the lane until `until` at least (a 429's Retry-After); returns its next_at."""
    await ensure(session, [key])
    stmt = select(Lane).where(Lane.key == key).execution_options(populate_existing=True)
    if _is_postgresql(session):
        stmt = stmt.with_for_update()  # waits: a claim holds a lane only for a moment
    lane = (await session.scalars(stmt)).one()
    if lane.next_at < until:
        lane.next_at = until
    return lane.next_at


async def next_at(session: AsyncSession, key: str) -> datetime | None:
    return await session.scalar(select(Lane.next_at).where(Lane.key == key))


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forgets lanes idle since before `before` (they would admit a full burst anyway). Rows a
    claim holds right now are skipped, so pruning never waits for or deadlocks with one."""
    old = select(Lane.key).where(Lane.next_at < before)
    if _is_postgresql(session):
        old = old.with_for_update(skip_locked=True)
    result = await session.execute(delete(Lane).where(Lane.key.in_(old)))
    return int(getattr(result, "rowcount", 0) or 0)
