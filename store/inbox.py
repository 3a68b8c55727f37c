"""The inbox table: events acknowledged at the door, applied later, each exactly once."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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


def _pg(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def add_many(session: AsyncSession, arrivals: Sequence[Arrival], now: datetime) -> None:
    """One multi-row insert; a redelivered event (same workspace and id) is ignored."""
    if not arrivals:
        return
    insert = postgresql.insert if _pg(session) else sqlite.insert
    rows = [
        {
            "workspace": a.workspace,
            "event_id": a.event_id,
            "kind": a.kind,
            "partition": a.partition,
            "payload": a.payload,
            "status": PENDING,
            "attempts": 0,
            "due_at": now,
            "received_at": now,
        }
        for a in arrivals
    ]
    for i in range(0, len(rows), 500):  # within the drivers' parameter limits
        stmt = insert(InboxEvent).values(rows[i : i + 500])
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["workspace", "event_id"]))


async def claim(
    session: AsyncSession, now: datetime, *, limit: int, lease: timedelta
) -> list[Claimed]:
    """The oldest applicable events: each the first unapplied one of its partition (so one
    partition's events apply one at a time, in arrival order), with a lease of its own."""
    earlier = aliased(InboxEvent)
    blocked = exists().where(
        earlier.partition == InboxEvent.partition,
        earlier.id < InboxEvent.id,
        earlier.status.in_((PENDING, RUNNING)),
    )
    ready = or_(
        and_(InboxEvent.status == PENDING, InboxEvent.due_at <= now),
        and_(InboxEvent.status == RUNNING, InboxEvent.locked_until < now),  # its worker died
    )
    stmt = select(InboxEvent).where(ready, ~blocked).order_by(InboxEvent.id).limit(limit)
    if _pg(session):
        stmt = stmt.with_for_update(skip_locked=True)
    out = []
    for row in await session.scalars(stmt):
        row.status, row.locked_until = RUNNING, now + lease
        row.lease_token = secrets.token_hex(8)
        row.attempts += 1
        out.append(Claimed(row.id, row.kind, row.payload, row.attempts, row.lease_token))
    return out


async def mark_done(session: AsyncSession, claimed: Claimed, now: datetime) -> bool:
    """False when the lease was lost (another worker owns the row now)."""
    result = await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id == claimed.id, InboxEvent.lease_token == claimed.token)
        .values(status=DONE, applied_at=now, locked_until=None, lease_token=None, payload="")
    )
    return bool(getattr(result, "rowcount", 0))


async def retry(
    session: AsyncSession, claimed: Claimed, due_at: datetime, error: str, *, final: bool
) -> None:
    await session.execute(
        update(InboxEvent)
        .where(InboxEvent.id == claimed.id, InboxEvent.lease_token == claimed.token)
        .values(
            status=FAILED if final else PENDING,
            due_at=due_at,
            locked_until=None,
            lease_token=None,
            last_error=error[:2000],
        )
    )


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


async def next_due(session: AsyncSession) -> datetime | None:
    pending = await session.scalar(
        select(func.min(InboxEvent.due_at)).where(InboxEvent.status == PENDING)
    )
    leased = await session.scalar(
        select(func.min(InboxEvent.locked_until)).where(InboxEvent.status == RUNNING)
    )
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None
