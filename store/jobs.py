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

from sqlalchemy import Table, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ClauseElement

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


_jobs: Table = Job.__table__  # type: ignore[assignment]
_lanes: Table = Lane.__table__  # type: ignore[assignment]
_JOB_COLUMNS = tuple(_jobs.columns.keys())
# Statements built once per shape: building the claim's select (kinds, joins) and the outcomes'
# updates on every call cost more CPU than running them.
_built: dict[tuple[Any, ...], Any] = {}


def _claim_select(pg: bool, limit: int, kinds: tuple[str, ...], platforms: Any) -> Any:
    j = _jobs.c
    lane = _lanes.alias("lane")
    group = _lanes.alias("lane_groups")
    now = bindparam("now", type_=j.due_at.type)
    where: list[Any] = [
        j.status == PENDING,
        j.due_at <= now,
        or_(lane.c.next_at.is_(None), lane.c.next_at <= now),
        or_(group.c.next_at.is_(None), group.c.next_at <= now),
        j.kind.in_(kinds),
    ]
    if platforms is not None:
        where.append(or_(j.platform.is_(None), j.platform.in_(platforms)))
    stmt = (
        select(_jobs, lane.c.next_at, group.c.next_at)
        .select_from(
            _jobs.outerjoin(lane, lane.c.key == j.lane).outerjoin(
                group, group.c.key == j.lane_group
            )
        )
        .where(*where)
        .order_by(j.due_at, j.id)
        .limit(limit)
    )
    if pg:
        stmt = stmt.with_for_update(skip_locked=True, of=_jobs)
    return stmt


_TAKE = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("job_id"))
    .values(
        status=RUNNING,
        locked_until=bindparam("until", type_=_jobs.c.locked_until.type),
        lease_token=bindparam("token"),
        attempts=bindparam("attempt"),
    )
)


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
    attempt. The jobs returned are copies tied to no session.

    On PostgreSQL the jobs and their lanes are locked FOR UPDATE SKIP LOCKED, so concurrent
    claims never take the same job, and a lane another claim is moving is left for the next one.
    A paced lane's next_at moves on for every job taken on it, in this same transaction; a job
    goes only when both its lanes admit it.
    `clock`, when given, is read again once the rows are locked: the pace is counted from
    then, not from before a wait for the database, so a slow claim never sends early.
    """
    if limit <= 0 or not kinds:
        return []
    pg = _is_postgresql(session)
    shape = (
        "claim",
        pg,
        limit,
        tuple(sorted(kinds)),
        None if platforms is None else tuple(sorted(platforms)),
    )
    stmt = _built.get(shape)
    if stmt is None:
        stmt = _built[shape] = _claim_select(pg, limit, shape[3], shape[4])
    width = len(_JOB_COLUMNS)
    rows = (await session.execute(stmt, {"now": now})).all()
    # Each candidate with the lanes it counts in, and whether each lane has a row yet.
    candidates: list[tuple[Job, list[tuple[str, bool]]]] = []
    for row in rows:
        job = Job(**dict(zip(_JOB_COLUMNS, row[:width], strict=True)))
        lane_at, group_at = row[width], row[width + 1]
        pairs = [(job.lane, lane_at), (job.lane_group, group_at)]
        candidates.append((job, [(key, at is not None) for key, at in pairs if key is not None]))
    paced: set[str] = set()
    if pacing is not None:
        paced = {key for _, keys in candidates for key, _ in keys if pacing.paced(key)}
    held: dict[str, datetime] = {}  # the locked lanes' next_at, as they move
    if paced:
        new = {key for _, keys in candidates for key, exists in keys if key in paced and not exists}
        await lane_store.ensure(session, new)
        held = await lane_store.lock(session, paced)
    if clock is not None and candidates:
        now = max(now, clock())
    claimed: list[Job] = []
    moved_lanes: dict[str, datetime] = {}
    for job, keys in candidates:
        moves: dict[str, datetime] = {}
        for key, _ in keys:
            if key not in paced:
                continue
            assert pacing is not None
            lane_at = held.get(key)
            # Not held: another worker is claiming on this lane right now. Not admitted: the
            # lane's allowance is used up until a later claim. Either way the job waits, and
            # neither of its lanes moves.
            moved = None if lane_at is None else pacing.admit(key, lane_at, now)
            if moved is None:
                break
            moves[key] = moved
        else:
            for key, moved in moves.items():
                held[key] = moved_lanes[key] = moved
            job.status = RUNNING
            job.locked_until = now + lease
            job.lease_token = new_token()
            job.attempts = (job.attempts or 0) + 1
            claimed.append(job)
    if claimed:
        await session.execute(
            _TAKE,
            [
                {
                    "job_id": job.id,
                    "until": job.locked_until,
                    "token": job.lease_token,
                    "attempt": job.attempts,
                }
                for job in claimed
            ],
        )
    if moved_lanes:
        await lane_store.move(session, moved_lanes)
    return claimed


def _held(job_id: int, token: str) -> Any:
    return (Job.id == job_id) & (Job.lease_token == token) & (Job.status == RUNNING)


def _outcome_stmt(names: tuple[str, ...]) -> Any:
    j = _jobs.c
    return (
        update(_jobs)
        .where(
            j.id == bindparam("job_id"), j.lease_token == bindparam("token"), j.status == RUNNING
        )
        .values({name: bindparam(f"v_{name}", type_=j[name].type) for name in names})
    )


async def _outcome(session: AsyncSession, job_id: int, token: str, **values: Any) -> bool:
    if any(isinstance(v, ClauseElement) for v in values.values()):  # e.g. attempts - 1
        result = await session.execute(
            update(Job)
            .where(_held(job_id, token))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    else:
        names = tuple(sorted(values))
        stmt = _built.get(("outcome", names))
        if stmt is None:
            stmt = _built["outcome", names] = _outcome_stmt(names)
        params = {f"v_{name}": value for name, value in values.items()}
        result = await session.execute(stmt, {"job_id": job_id, "token": token, **params})
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


async def finish_many(
    session: AsyncSession | AsyncConnection, held: Collection[tuple[int, str]], now: datetime
) -> set[int]:
    """Marks runs done, in one statement however many (the scheduler gathers the runs that
    end while it writes the previous ones); returns the ids whose lease still held, and so
    are done. Each row is matched on its own (id, token) pair."""
    if not held:
        return set()
    stmt = _built.get(("finish_many",))
    if stmt is None:
        j = _jobs.c
        stmt = _built["finish_many",] = (
            update(_jobs)
            .where(
                tuple_(j.id, j.lease_token).in_(bindparam("held", expanding=True)),
                j.status == RUNNING,
            )
            .values(
                status=DONE,
                finished_at=bindparam("now", type_=j.finished_at.type),
                locked_until=None,
                lease_token=None,
                last_error=None,
            )
            .returning(j.id)
        )
    # Replicas finish disjoint sets of rows (each its own leases): no lock order to keep.
    result = await session.execute(stmt, {"held": sorted(held), "now": now})
    return {int(job_id) for (job_id,) in result}


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


async def release(session: AsyncSession, leases: Mapping[int, str], reason: str) -> int:
    """Gives back jobs whose run was interrupted (their worker is stopping): pending again at
    once, with their due time (so their place), not after the lease; the attempt is not
    counted. Jobs whose outcome was written no longer hold the token and are left alone."""
    if not leases:
        return 0
    result = await session.execute(
        update(Job)
        .where(
            Job.id.in_(sorted(leases)),
            Job.lease_token.in_(sorted(leases.values())),  # one token per job: a pair's own
            Job.status == RUNNING,
        )
        .values(
            status=PENDING,
            lease_token=None,
            locked_until=None,
            attempts=Job.attempts - 1,
            last_error=reason[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


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


# (kinds, platforms) -> the statement of next_due, built once: the scheduler asks after
# every claim and every job's end, and building them cost more than running them.
_next_due_built: dict[tuple[tuple[str, ...] | None, tuple[str, ...] | None], Any] = {}


def _next_due_statement(kinds: Collection[str] | None, platforms: Collection[str] | None) -> Any:
    key = (
        None if kinds is None else tuple(sorted(kinds)),
        None if platforms is None else tuple(sorted(platforms)),
    )
    built = _next_due_built.get(key)
    if built is None:
        group = aliased(Lane, name="lane_groups")
        lane_start = case((Lane.next_at > Job.due_at, Lane.next_at), else_=Job.due_at)
        start = case((group.next_at > lane_start, group.next_at), else_=lane_start)
        pending = (
            select(func.min(start, type_=UTCDateTime()))
            .select_from(Job)
            .outerjoin(Lane, Lane.key == Job.lane)
            .outerjoin(group, group.key == Job.lane_group)
            .where(Job.status == PENDING)
        )
        if kinds is not None:
            pending = pending.where(*_runnable(kinds, platforms))
        leased = select(func.min(Job.locked_until)).where(Job.status == RUNNING)
        # One round trip for both (the scheduler asks after most claims).
        both = select(
            pending.scalar_subquery().label("pending"), leased.scalar_subquery().label("leased")
        )
        built = _next_due_built[key] = both
    return built


async def next_due(
    session: AsyncSession,
    *,
    kinds: Collection[str] | None = None,
    platforms: Collection[str] | None = None,
) -> datetime | None:
    """When the next job this worker may run could be claimed: the latest of its due time and
    its lanes' next_at, or the end of a running job's lease (to take it over)."""
    if kinds is not None and not kinds:
        return None
    pending, leased = (await session.execute(_next_due_statement(kinds, platforms))).one()
    # min() keeps the column's type, so these come back as aware UTC datetimes.
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def get_job(session: AsyncSession, workspace_id: int, key: str) -> Job | None:
    return await session.scalar(select(Job).where(Job.workspace_id == workspace_id, Job.key == key))


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: int(n) for status, n in rows}
