"""The durable jobs table: enqueue, claim with a lease per job, and write a run's outcome.

Every outcome (finish, retry, defer, give up, lease renewal) is written only
`WHERE id = :id AND lease_token = :token`: a worker whose lease ran out and was taken over by
another changes nothing, and the caller learns so (False). Attempts are counted when a job is
claimed (so a run that never finishes, a crash, still uses one up) and given back by `defer`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store import lanes as lane_store
from store.common import insert_ignore
from store.models import Job, Lane, UTCDateTime

PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"
UNFINISHED = (PENDING, RUNNING)


def new_token() -> str:
    return secrets.token_hex(16)  # 32 characters, the column's width


def _is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def enqueue(
    session: AsyncSession,
    *,
    workspace_id: int,
    kind: str,
    key: str,
    payload: str,
    due_at: datetime,
    now: datetime,
    platform: str | None = None,
    lane: str | None = None,
    lane_group: str | None = None,
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
            "platform": platform,
            "lane": lane,
            "lane_group": lane_group,
            "created_at": now,
        },
        ("workspace_id", "key"),
    )


def _runnable(kinds: Collection[str], platforms: Collection[str] | None) -> list[Any]:
    where: list[Any] = [Job.kind.in_(sorted(kinds))]
    if platforms is not None:
        where.append(or_(Job.platform.is_(None), Job.platform.in_(sorted(platforms))))
    return where


async def reap_expired(session: AsyncSession, now: datetime) -> int:
    """Running jobs whose lease ran out (their worker died or stalled) become pending again.

    Their attempt stays spent, so a job that kills its worker every time still gives up."""
    expired = select(Job.id).where(Job.status == RUNNING, Job.locked_until < now)
    if _is_postgresql(session):
        expired = expired.with_for_update(skip_locked=True)
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(expired))
        .values(
            status=PENDING,
            lease_token=None,
            locked_until=None,
            last_error="lease ran out: the worker stopped or stalled",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(
    session: AsyncSession,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    kinds: Collection[str],
    platforms: Collection[str] | None = None,
    pacing: lane_store.LanePolicy | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[Job]:
    """Takes up to `limit` pending jobs that are due, of `kinds`, for `platforms` (None: any),
    whose lanes (`lane`, `lane_group`) let them go now; each gets its own lease token and an
    attempt.

    On PostgreSQL the jobs and their lanes are locked FOR UPDATE SKIP LOCKED, so concurrent
    claims never take the same job, and a lane another claim is moving is left for the next one.
    A paced lane's next_at moves on for every job taken on it, in this same transaction; a job
    goes only when both its lanes admit it.
    `clock`, when given, is read again once the rows are locked: the pace is counted from
    then, not from before a wait for the database, so a slow claim never sends early.
    """
    if limit <= 0 or not kinds:
        return []
    group = aliased(Lane, name="lane_groups")
    stmt = (
        select(Job, Lane.next_at, group.next_at)
        .outerjoin(Lane, Lane.key == Job.lane)
        .outerjoin(group, group.key == Job.lane_group)
        .where(
            Job.status == PENDING,
            Job.due_at <= now,
            or_(Lane.next_at.is_(None), Lane.next_at <= now),
            or_(group.next_at.is_(None), group.next_at <= now),
            *_runnable(kinds, platforms),
        )
        .order_by(Job.due_at, Job.id)
        .limit(limit)
    )
    if _is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Job)
    rows = (await session.execute(stmt)).all()
    # Each candidate with the lanes it counts in, and whether each lane has a row yet.
    candidates: list[tuple[Job, list[tuple[str, bool]]]] = []
    for job, lane_at, group_at in rows:
        pairs = [(job.lane, lane_at), (job.lane_group, group_at)]
        candidates.append((job, [(key, at is not None) for key, at in pairs if key is not None]))
    paced: set[str] = set()
    if pacing is not None:
        paced = {key for _, keys in candidates for key, _ in keys if pacing.paced(key)}
    held: dict[str, Lane] = {}
    if paced:
        new = {key for _, keys in candidates for key, exists in keys if key in paced and not exists}
        await lane_store.ensure(session, new)
        held = await lane_store.lock(session, paced)
    if clock is not None and candidates:
        now = max(now, clock())
    claimed: list[Job] = []
    for job, keys in candidates:
        moves: dict[str, datetime] = {}
        for key, _ in keys:
            if key not in paced:
                continue
            assert pacing is not None
            row = held.get(key)
            # Not held: another worker is claiming on this lane right now. Not admitted: the
            # lane's allowance is used up until a later claim. Either way the job waits, and
            # neither of its lanes moves.
            moved = None if row is None else pacing.admit(key, row.next_at, now)
            if moved is None:
                break
            moves[key] = moved
        else:
            for key, moved in moves.items():
                held[key].next_at = moved
            job.status = RUNNING
            job.locked_until = now + lease
            job.lease_token = new_token()
            job.attempts += 1
            claimed.append(job)
    await session.flush()
    return claimed


def _held(job_id: int, token: str) -> Any:
    return (Job.id == job_id) & (Job.lease_token == token) & (Job.status == RUNNING)


async def _outcome(session: AsyncSession, job_id: int, token: str, **values: Any) -> bool:
    result = await session.execute(
        update(Job)
        .where(_held(job_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def renew(
    session: AsyncSession, leases: Mapping[int, str], locked_until: datetime
) -> set[int]:
    """Extends the leases still held; returns the ids whose lease was lost."""
    if not leases:
        return set()
    await session.execute(
        update(Job)
        .where(
            Job.id.in_(sorted(leases)),
            Job.lease_token.in_(sorted(leases.values())),
            Job.status == RUNNING,
        )
        .values(locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )
    held = await session.execute(
        select(Job.id, Job.lease_token).where(Job.id.in_(sorted(leases)), Job.status == RUNNING)
    )
    still = {job_id for job_id, token in held if leases.get(job_id) == token}
    return set(leases) - still


async def finish(session: AsyncSession, job_id: int, token: str, now: datetime) -> bool:
    return await _outcome(
        session,
        job_id,
        token,
        status=DONE,
        finished_at=now,
        locked_until=None,
        lease_token=None,
        last_error=None,
    )


async def retry_later(
    session: AsyncSession, job_id: int, token: str, due_at: datetime, error: str
) -> bool:
    """Runs it again at `due_at`; the attempt this run used stays spent."""
    return await _outcome(
        session,
        job_id,
        token,
        status=PENDING,
        due_at=due_at,
        locked_until=None,
        lease_token=None,
        last_error=error[:2000],
    )


async def defer(
    session: AsyncSession, job_id: int, token: str, due_at: datetime, reason: str
) -> bool:
    """Runs it again at `due_at` and gives back the attempt this run used."""
    return await _outcome(
        session,
        job_id,
        token,
        status=PENDING,
        due_at=due_at,
        attempts=Job.attempts - 1,  # counted at claim, so at least 1 here
        locked_until=None,
        lease_token=None,
        last_error=reason[:2000],
    )


async def give_up(
    session: AsyncSession, job_id: int, token: str, now: datetime, error: str
) -> bool:
    return await _outcome(
        session,
        job_id,
        token,
        status=FAILED,
        finished_at=now,
        locked_until=None,
        lease_token=None,
        last_error=error[:2000],
    )


async def cancel(session: AsyncSession, workspace_id: int, key: str, now: datetime) -> bool:
    """Cancels the job unless it finished; True when it was pending or running. A running
    job's token is taken away, so the end of its current run changes nothing."""
    result = await session.execute(
        update(Job)
        .where(Job.workspace_id == workspace_id, Job.key == key, Job.status.in_(UNFINISHED))
        .values(
            status=CANCELLED,
            finished_at=now,
            locked_until=None,
            lease_token=None,
            last_error="cancelled",
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) > 0


async def reschedule(session: AsyncSession, workspace_id: int, key: str, due_at: datetime) -> bool:
    """Moves a pending job to `due_at`; True when there was one (not running nor finished)."""
    result = await session.execute(
        update(Job)
        .where(Job.workspace_id == workspace_id, Job.key == key, Job.status == PENDING)
        .values(due_at=due_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) > 0


async def holder(session: AsyncSession, job_id: int) -> tuple[str, str | None] | None:
    """The job's status and current lease token (to say why an outcome was refused)."""
    row = (
        await session.execute(select(Job.status, Job.lease_token).where(Job.id == job_id))
    ).first()
    return None if row is None else (str(row[0]), row[1])


async def next_due(
    session: AsyncSession,
    *,
    kinds: Collection[str] | None = None,
    platforms: Collection[str] | None = None,
) -> datetime | None:
    """When the next job this worker may run could be claimed: the latest of its due time and
    its lanes' next_at, or the end of a running job's lease (to take it over)."""
    group = aliased(Lane, name="lane_groups")
    lane_start = case((Lane.next_at > Job.due_at, Lane.next_at), else_=Job.due_at)
    start = case((group.next_at > lane_start, group.next_at), else_=lane_start)
    query = (
        select(func.min(start, type_=UTCDateTime()))
        .select_from(Job)
        .outerjoin(Lane, Lane.key == Job.lane)
        .outerjoin(group, group.key == Job.lane_group)
        .where(Job.status == PENDING)
    )
    if kinds is not None:
        if not kinds:
            return None
        query = query.where(*_runnable(kinds, platforms))
    pending = await session.scalar(query)
    leased = await session.scalar(select(func.min(Job.locked_until)).where(Job.status == RUNNING))
    # min() keeps the column's type, so these come back as aware UTC datetimes.
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def get_job(session: AsyncSession, workspace_id: int, key: str) -> Job | None:
    return await session.scalar(select(Job).where(Job.workspace_id == workspace_id, Job.key == key))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: int(n) for status, n in rows}
