"""The inbox table: events acknowledged at the door, applied later, each exactly once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store.models import InboxEvent

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class Arrival:
    workspace: str
    event_id: str
    kind: str
    partition: str
    payload: str


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    payload: str
    attempts: int
    token: str


_inbox: Table = InboxEvent.__table__  # type: ignore[assignment]
_built: dict[tuple[str, bool, int], Any] = {}


def _pg(conn: AsyncSession | AsyncConnection) -> bool:
    bind = conn if isinstance(conn, AsyncConnection) else conn.bind
    return bind is not None and bind.dialect.name == "postgresql"


_ARRAYS = ("workspace", "event_id", "kind", "partition", "payload")  # per event, at the door


def _add_pg() -> Any:
    """PostgreSQL: the batch as arrays, one per column, unnested into rows. One statement
    whatever the batch's size, so asyncpg prepares it once: a VALUES list has a text per
    size (up to GATHER_MAX of them, more than asyncpg's statement cache keeps), which
    SQLAlchemy also renders again for each batch."""
    c = _inbox.c
    texts = postgresql.ARRAY(String)
    rows = select(
        *(func.unnest(bindparam(name, type_=texts)) for name in _ARRAYS),
        literal(PENDING, String),
        literal(0, Integer),
        bindparam("now", type_=c.due_at.type),
        bindparam("now", type_=c.received_at.type),
    )
    return (
        postgresql.insert(_inbox)
        .from_select([*_ARRAYS, "status", "attempts", "due_at", "received_at"], rows)
        .on_conflict_do_nothing(index_elements=["workspace", "event_id"])
        .returning(c.workspace, c.event_id)
    )


async def add_many(
    conn: AsyncConnection, arrivals: Sequence[Arrival], now: datetime
) -> set[tuple[str, str]]:
    """One statement for the batch; a redelivered event (same workspace and id) is ignored.
    Returns the (workspace, event id) of the rows it added: the others were duplicates.
    The door passes a Core connection (`Database.connection`): no ORM session to set up."""
    if not arrivals:
        return set()
    pg = _pg(conn)
    stmt = _built.get(("add", pg, 0))
    if stmt is None:
        stmt = _built["add", pg, 0] = (
            _add_pg()
            if pg
            else sqlite.insert(_inbox)
            .on_conflict_do_nothing(index_elements=["workspace", "event_id"])
            .returning(_inbox.c.workspace, _inbox.c.event_id)
        )
    if pg:
        params: Any = {name: [getattr(a, name) for a in arrivals] for name in _ARRAYS}
        params["now"] = now
    else:
        fixed = {"status": PENDING, "attempts": 0, "due_at": now, "received_at": now}
        params = [{**{n: getattr(a, n) for n in _ARRAYS}, **fixed} for a in arrivals]
    result = await conn.execute(stmt, params)
    return {(workspace, event_id) for workspace, event_id in result}


def _live(t: Any) -> Any:
    """INBOX_LIVE on `t`, with literal values: what lets a claim read the partial indexes."""
    return t.c.status.in_([literal_column(f"'{PENDING}'"), literal_column(f"'{RUNNING}'")])


def _claim_stmt(pg: bool, limit: int) -> Any:
    t = _inbox
    head = t.alias("head")  # the candidates (not correlated with the UPDATE's own table)
    earlier = t.alias("earlier")
    blocked = exists().where(
        earlier.c.partition == head.c.partition,
        earlier.c.id < head.c.id,
        _live(earlier),
    )
    now = bindparam("now", type_=t.c.due_at.type)
    ready = or_(
        and_(head.c.status == PENDING, head.c.due_at <= now),
        and_(head.c.status == RUNNING, head.c.locked_until < now),  # its worker died
    )
    ids = select(head.c.id).where(_live(head), ready, ~blocked).order_by(head.c.id).limit(limit)
    if pg:
        ids = ids.with_for_update(skip_locked=True)
    return (
        update(t)
        .where(t.c.id.in_(ids.scalar_subquery()))
        .values(
            status=RUNNING,
            locked_until=bindparam("until", type_=t.c.locked_until.type),
            lease_token=bindparam("token"),
            attempts=t.c.attempts + 1,
        )
        .returning(t.c.id, t.c.kind, t.c.payload, t.c.attempts)
    )


async def claim(
    session: AsyncSession, now: datetime, *, limit: int, lease: timedelta
) -> list[Claimed]:
    """The oldest applicable events: each the first unapplied one of its partition (so one
    partition's events apply one at a time, in arrival order), with a lease (one statement;
    the rows claimed together share one lease token, new for every claim)."""
    pg = _pg(session)
    stmt = _built.get(("claim", pg, limit))
    if stmt is None:
        stmt = _built["claim", pg, limit] = _claim_stmt(pg, limit)
    token = secrets.token_hex(8)
    rows = await session.execute(stmt, {"now": now, "until": now + lease, "token": token})
    return sorted(
        (Claimed(id, kind, payload, attempts, token) for id, kind, payload, attempts in rows),
        key=lambda c: c.id,
    )


_t = _inbox.c
_MARK_DONE = (
    update(_inbox)
    .where(_t.id == bindparam("row"), _t.lease_token == bindparam("claim"))
    .values(
        status=DONE,
        applied_at=bindparam("now", type_=_t.applied_at.type),
        locked_until=None,
        lease_token=None,
        payload="",
    )
)
_RETRY = (
    update(_inbox)
    .where(_t.id == bindparam("row"), _t.lease_token == bindparam("claim"))
    .values(
        status=bindparam("status"),
        due_at=bindparam("due", type_=_t.due_at.type),
        locked_until=None,
        lease_token=None,
        last_error=bindparam("error"),
    )
)


async def mark_done(session: AsyncSession, claimed: Claimed, now: datetime) -> bool:
    """False when the lease was lost (another worker owns the row now)."""
    result = await session.execute(
        _MARK_DONE, {"row": claimed.id, "claim": claimed.token, "now": now}
    )
    return bool(getattr(result, "rowcount", 0))


async def retry(
    session: AsyncSession, claimed: Claimed, due_at: datetime, error: str, *, final: bool
) -> None:
    await session.execute(
        _RETRY,
        {
            "row": claimed.id,
            "claim": claimed.token,
            "status": FAILED if final else PENDING,
            "due": due_at,
            "error": error[:2000],
        },
    )


async def release(session: AsyncSession, rows: Sequence[Claimed]) -> int:
    """Gives back claimed rows that were not applied (their worker is stopping): pending again
    at once, not after the lease, and the attempt is not counted. Rows already applied or
    retried no longer hold the token and are left alone."""
    if not rows:
        return 0
    result = await session.execute(
        update(_inbox)
        .where(
            _t.id.in_(sorted(row.id for row in rows)),
            _t.lease_token.in_(sorted({row.token for row in rows})),
            _t.status == RUNNING,
        )
        .values(status=PENDING, locked_until=None, lease_token=None, attempts=_t.attempts - 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forgets applied events older than `before` (the platforms stop retrying long before)."""
    result = await session.execute(
        delete(InboxEvent).where(InboxEvent.status == DONE, InboxEvent.applied_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Depth:
    waiting: int  # pending or being applied
    failed: int
    oldest: datetime | None  # when the oldest waiting event arrived


async def depth(session: AsyncSession) -> Depth:
    waiting, oldest = (
        await session.execute(
            select(func.count(), func.min(InboxEvent.received_at)).where(
                InboxEvent.status.in_((PENDING, RUNNING))
            )
        )
    ).one()
    failed = await session.scalar(
        select(func.count()).select_from(InboxEvent).where(InboxEvent.status == FAILED)
    )
    return Depth(int(waiting or 0), int(failed or 0), oldest)


async def waiting_by_workspace(session: AsyncSession) -> dict[str, tuple[int, datetime]]:
    """Per workspace: how many events wait, and since when the oldest."""
    rows = await session.execute(
        select(InboxEvent.workspace, func.count(), func.min(InboxEvent.received_at))
        .where(InboxEvent.status.in_((PENDING, RUNNING)))
        .group_by(InboxEvent.workspace)
    )
    return {workspace: (int(n), oldest) for workspace, n, oldest in rows}


_next_pending = select(func.min(InboxEvent.due_at)).where(InboxEvent.status == PENDING)
_next_lease_end = select(func.min(InboxEvent.locked_until)).where(InboxEvent.status == RUNNING)


async def next_due(session: AsyncSession) -> datetime | None:
    pending = await session.scalar(_next_pending)
    leased = await session.scalar(_next_lease_end)
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None
