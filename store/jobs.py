"""The durable jobs table: enqueue, claim with a lease, finish or retry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import Job

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


async def enqueue(
    session: AsyncSession,
    *,
    workspace_id: int,
    kind: str,
    key: str,
    payload: str,
    due_at: datetime,
    now: datetime,
) -> bool:
    """Adds a job unless one with the same key exists; True when added."""
    return await insert_ignore(
        session,
        Job,
        {
            "workspace_id": workspace_id,
            "kind": kind,
            "key": key,
            "payload": payload,
            "status": PENDING,
            "due_at": due_at,
            "attempts": 0,
            "created_at": now,
        },
        ("workspace_id", "key"),
    )


def _claimable(now: datetime) -> object:
    # A running job whose lease ran out belonged to a worker that died: it is taken again.
    return or_(
        (Job.status == PENDING) & (Job.due_at <= now),
        (Job.status == RUNNING) & (Job.locked_until < now),
    )


async def claim_due(
    session: AsyncSession, now: datetime, *, limit: int, lease: timedelta
) -> list[Job]:
    stmt = select(Job).where(_claimable(now)).order_by(Job.due_at, Job.id).limit(limit)  # type: ignore[arg-type]
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    jobs = list(await session.scalars(stmt))
    for job in jobs:
        job.status = RUNNING
        job.locked_until = now + lease
        job.attempts += 1
    return jobs


async def finish(session: AsyncSession, job_id: int, now: datetime) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=DONE, finished_at=now, locked_until=None, last_error=None)
    )


async def retry_later(session: AsyncSession, job_id: int, due_at: datetime, error: str) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=PENDING, due_at=due_at, locked_until=None, last_error=error[:2000])
    )


async def give_up(session: AsyncSession, job_id: int, now: datetime, error: str) -> None:
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=FAILED, finished_at=now, locked_until=None, last_error=error[:2000])
    )


async def next_due(session: AsyncSession) -> datetime | None:
    pending = await session.scalar(select(func.min(Job.due_at)).where(Job.status == PENDING))
    leased = await session.scalar(select(func.min(Job.locked_until)).where(Job.status == RUNNING))
    # min() keeps the column's type, so these come back as aware UTC datetimes.
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def get_job(session: AsyncSession, workspace_id: int, key: str) -> Job | None:
    return await session.scalar(select(Job).where(Job.workspace_id == workspace_id, Job.key == key))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: int(n) for status, n in rows}
