"""Scheduler v2: outcomes, leases per job, cancel/reschedule, replicas and platforms, give-up hook.

Every test runs on SQLite and PostgreSQL (the `db` fixture); time is a ManualClock except where
two replicas run for real.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from bot.clock import ManualClock, SystemClock
from bot.scheduler import (
    MAX_ATTEMPTS,
    Defer,
    GiveUp,
    JobContext,
    RetryLater,
    Scheduler,
)
from store import Database
from store import jobs as job_store
from store.models import Job
from tests.helpers import console_workspace


async def _enqueue(
    scheduler: Scheduler,
    db: Database,
    ws_id: int,
    key: str,
    *,
    kind: str = "job",
    due_at: datetime | None = None,
    platform: str | None = None,
    payload: str = "{}",
) -> None:
    async with db.transaction() as session:
        assert await scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind=kind,
            key=key,
            payload=payload,
            due_at=due_at,
            platform=platform,
        )


@contextmanager
def watching(db: Database, seen: Callable[..., None]) -> Iterator[None]:
    """`seen(conn, cursor, sql, ...)` is told every statement sent meanwhile."""
    engine = db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)


async def _job(db: Database, ws_id: int, key: str) -> Job:
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, key)
    assert job is not None
    return job


async def test_handler_gets_its_context(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    seen: list[JobContext] = []

    async def handler(ctx: JobContext) -> None:
        seen.append(ctx)

    scheduler = Scheduler(db, clock)
    scheduler.register("job", handler)
    await _enqueue(scheduler, db, ws_id, "k1", payload='{"x": 1}', platform="console")
    assert await scheduler.run_due() == 1
    (ctx,) = seen
    assert (ctx.key, ctx.kind, ctx.attempt, ctx.workspace_id) == ("k1", "job", 1, ws_id)
    assert ctx.payload == '{"x": 1}' and ctx.due_at == clock.now() and ctx.platform == "console"
    assert len(ctx.lease_token) == 32
    job = await _job(db, ws_id, "k1")
    assert job.status == "done" and job.lease_token is None


async def test_defer_spends_no_attempt(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    attempts: list[int] = []

    async def quiet_hours(ctx: JobContext) -> None:
        attempts.append(ctx.attempt)
        if len(attempts) <= 2 * MAX_ATTEMPTS:  # far more deferrals than attempts allowed
            raise Defer(clock.now() + timedelta(hours=1), "quiet hours")

    scheduler = Scheduler(db, clock)
    scheduler.register("job", quiet_hours)
    await _enqueue(scheduler, db, ws_id, "nudge")
    for _ in range(2 * MAX_ATTEMPTS + 1):
        assert await scheduler.run_due() == 1
        assert await scheduler.run_due() == 0  # not before `until`
        job = await _job(db, ws_id, "nudge")
        assert job.attempts <= 1
        clock.advance(timedelta(hours=1))
    assert attempts == [1] * (2 * MAX_ATTEMPTS + 1)
    job = await _job(db, ws_id, "nudge")
    assert job.status == "done" and job.attempts == 1


async def test_retry_spends_attempts_then_gives_up_through_the_hook(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    given_up: list[tuple[JobContext, str]] = []

    async def hook(ctx: JobContext, reason: str) -> None:
        given_up.append((ctx, reason))

    async def flaky(ctx: JobContext) -> None:
        raise RetryLater("platform down", delay=1)

    async def final(ctx: JobContext) -> None:
        raise GiveUp("user left")

    scheduler = Scheduler(db, clock, on_give_up=hook, max_attempts=3)
    scheduler.register("flaky", flaky)
    scheduler.register("final", final)
    await _enqueue(scheduler, db, ws_id, "f1", kind="flaky")
    await _enqueue(scheduler, db, ws_id, "g1", kind="final")
    for _ in range(5):
        await scheduler.run_due()
        clock.advance(timedelta(seconds=1))
    assert sorted((ctx.key, ctx.attempt) for ctx, _ in given_up) == [("f1", 3), ("g1", 1)]
    reasons = dict((ctx.key, reason) for ctx, reason in given_up)
    assert "platform down" in reasons["f1"] and reasons["g1"] == "user left"
    assert (await _job(db, ws_id, "f1")).status == "failed"


async def test_a_failing_hook_is_logged_not_raised(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ws_id = await console_workspace(db, clock)

    async def hook(ctx: JobContext, reason: str) -> None:
        raise RuntimeError("admins unreachable")

    async def final(ctx: JobContext) -> None:
        raise GiveUp("no")

    scheduler = Scheduler(db, clock, on_give_up=hook)
    scheduler.register("job", final)
    await _enqueue(scheduler, db, ws_id, "k")
    assert await scheduler.run_due() == 1
    assert "the give-up hook failed" in caplog.text
    assert (await _job(db, ws_id, "k")).status == "failed"


async def test_a_job_that_never_finishes_still_gives_up(db: Database, clock: ManualClock) -> None:
    """Attempts are counted at claim: a run that kills its worker every time uses them up."""
    ws_id = await console_workspace(db, clock)
    given_up: list[str] = []

    async def hook(ctx: JobContext, reason: str) -> None:
        given_up.append(reason)

    scheduler = Scheduler(db, clock, on_give_up=hook, max_attempts=2)
    scheduler.register("job", lambda ctx: asyncio.sleep(0))
    await _enqueue(scheduler, db, ws_id, "poison")
    for _ in range(2):  # two workers claim it and die
        async with db.transaction() as session:
            await job_store.reap_expired(session, clock.now())
            assert await job_store.claim(
                session, clock.now(), limit=1, lease=timedelta(minutes=1), kinds={"job"}
            )
        clock.advance(timedelta(minutes=2))
    assert await scheduler.run_due() == 1
    assert len(given_up) == 1 and "never finished" in given_up[0]


async def test_cancel_and_reschedule_inside_the_callers_transaction(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    ran: list[str] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.key)

    scheduler = Scheduler(db, clock)
    scheduler.register("job", handler)
    in_an_hour = clock.now() + timedelta(hours=1)
    await _enqueue(scheduler, db, ws_id, "escalate", due_at=in_an_hour)
    await _enqueue(scheduler, db, ws_id, "nudge", due_at=in_an_hour)
    async with db.transaction() as session:  # the question was claimed; the nudge snoozed
        assert await scheduler.cancel(session, ws_id, "escalate")
        assert await scheduler.reschedule(session, ws_id, "nudge", in_an_hour + timedelta(hours=1))
        assert not await scheduler.cancel(session, ws_id, "never-queued")
        assert not await scheduler.reschedule(session, ws_id, "escalate", in_an_hour)
    with pytest.raises(RuntimeError):  # a transaction rolled back changes nothing
        async with db.transaction() as session:
            assert await scheduler.cancel(session, ws_id, "nudge")
            raise RuntimeError("the effect failed")
    clock.advance(timedelta(hours=1))
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(hours=1))
    assert await scheduler.run_due() == 1
    assert ran == ["nudge"]
    assert (await _job(db, ws_id, "escalate")).status == "cancelled"


async def test_cancel_of_a_running_job_is_not_undone_by_its_end(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ws_id = await console_workspace(db, clock)

    async def handler(ctx: JobContext) -> None:
        async with db.transaction() as session:  # someone cancels it while it runs
            assert await scheduler.cancel(session, ctx.workspace_id, ctx.key)
        raise RetryLater("would have run again")

    scheduler = Scheduler(db, clock)
    scheduler.register("job", handler)
    await _enqueue(scheduler, db, ws_id, "k")
    assert await scheduler.run_due() == 1
    clock.advance(timedelta(hours=1))
    assert await scheduler.run_due() == 0
    assert (await _job(db, ws_id, "k")).status == "cancelled"
    assert "cancelled while it ran" in caplog.text


async def test_a_stale_worker_cannot_overwrite_the_new_owner(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Worker A stalls past its lease; B takes the job over and finishes it; A's late outcome
    (a retry) is refused, so the job stays done and is not run a third time."""
    ws_id = await console_workspace(db, clock)
    runs: list[str] = []
    lease = timedelta(minutes=1)
    b = Scheduler(db, clock, lease=lease)
    a = Scheduler(db, clock, lease=lease)

    async def done(ctx: JobContext) -> None:
        runs.append(f"b:{ctx.attempt}")

    async def stalls(ctx: JobContext) -> None:
        runs.append(f"a:{ctx.attempt}")
        clock.advance(lease + timedelta(seconds=1))
        assert await b.run_due() == 1  # B reaps the expired lease and runs the job
        raise RetryLater("A thinks it failed")

    a.register("job", stalls)
    b.register("job", done)
    await _enqueue(a, db, ws_id, "k")
    assert await a.run_due() == 1
    assert runs == ["a:1", "b:2"]
    job = await _job(db, ws_id, "k")
    assert job.status == "done" and job.lease_token is None
    assert "lease was taken over by another worker" in caplog.text
    clock.advance(timedelta(hours=1))
    assert await a.run_due() == 0 and await b.run_due() == 0


async def test_a_stale_worker_s_finish_is_refused(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """As above, but A's run then ends well: its "done" (written in a batch) is refused, and
    the job keeps B's outcome."""
    ws_id = await console_workspace(db, clock)
    lease = timedelta(minutes=1)
    a = Scheduler(db, clock, lease=lease)
    b = Scheduler(db, clock, lease=lease)
    b_runs: list[int] = []

    async def by_b(ctx: JobContext) -> None:
        b_runs.append(ctx.attempt)
        raise RetryLater("B failed", delay=3600)

    async def stalls(ctx: JobContext) -> None:
        clock.advance(lease + timedelta(seconds=1))
        assert await b.run_due() == 1  # B takes the job over; its run fails, a retry later

    a.register("job", stalls)
    b.register("job", by_b)
    await _enqueue(a, db, ws_id, "k")
    assert await a.run_due() == 1
    job = await _job(db, ws_id, "k")
    assert b_runs == [2]
    assert job.status == "pending" and job.attempts == 2 and job.finished_at is None
    assert "lease was taken over by another worker (now pending)" in caplog.text
    assert "finish is dropped" in caplog.text


async def test_runs_that_end_together_share_their_finish(db: Database, clock: ManualClock) -> None:
    """Runs that end while "done" is being written for others are written in one batch."""
    ws_id = await console_workspace(db, clock)
    gate = asyncio.Event()

    async def waits(ctx: JobContext) -> None:
        await gate.wait()

    scheduler = Scheduler(db, clock)
    scheduler.register("job", waits)
    for i in range(8):
        await _enqueue(scheduler, db, ws_id, f"k{i}")
    finishes = 0

    def counted(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        nonlocal finishes
        if sql.startswith("UPDATE jobs SET") and "finished_at" in sql:
            finishes += 1

    with watching(db, counted):
        running = asyncio.create_task(scheduler.run_due(workers=8))
        for _ in range(50):
            await asyncio.sleep(0.01)
        gate.set()  # all eight end in the same turn
        assert await running == 8
    assert 1 <= finishes <= 2
    for i in range(8):
        job = await _job(db, ws_id, f"k{i}")
        assert job.status == "done" and job.lease_token is None and job.finished_at is not None


async def test_a_replica_never_claims_jobs_of_a_platform_it_does_not_serve(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    ran: list[str] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.key)

    ports: dict[str, object] = {"slack": object()}  # a live mapping, like the ports
    slack_only = Scheduler(db, clock, platforms=ports)
    slack_only.register("job", handler)
    await _enqueue(slack_only, db, ws_id, "to-teams", platform="teams")
    await _enqueue(slack_only, db, ws_id, "to-slack", platform="slack")
    await _enqueue(slack_only, db, ws_id, "anywhere")
    for _ in range(3):
        await slack_only.run_due()
        clock.advance(timedelta(minutes=5))
    assert sorted(ran) == ["anywhere", "to-slack"]
    teams_job = await _job(db, ws_id, "to-teams")
    assert teams_job.status == "pending" and teams_job.attempts == 0  # untouched
    ports["teams"] = object()  # the Teams adapter started
    assert await slack_only.run_due() == 1
    assert ran[-1] == "to-teams"


async def test_only_kinds_with_a_handler_are_claimed(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    full = Scheduler(db, clock)
    full.register("a", lambda ctx: asyncio.sleep(0))
    full.register("b", lambda ctx: asyncio.sleep(0))
    await _enqueue(full, db, ws_id, "b1", kind="b")
    partial = Scheduler(db, clock)  # an older replica that knows only kind "a"
    partial.register("a", lambda ctx: asyncio.sleep(0))
    assert await partial.run_due() == 0
    assert (await _job(db, ws_id, "b1")).attempts == 0
    assert await full.run_due() == 1


async def test_workers_run_jobs_concurrently(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    running = 0
    peak = 0

    async def slow(ctx: JobContext) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    scheduler = Scheduler(db, clock)
    scheduler.register("job", slow)
    for i in range(8):
        await _enqueue(scheduler, db, ws_id, f"k{i}")
    assert await scheduler.run_due(workers=4) == 8
    assert peak == 4


async def test_run_forever_wakes_for_new_work_and_stops(db: Database) -> None:
    clock = SystemClock()
    ws_id = await console_workspace(db, clock)
    ran = asyncio.Event()

    async def handler(ctx: JobContext) -> None:
        ran.set()

    scheduler = Scheduler(db, clock)
    scheduler.register("job", handler)
    stop = asyncio.Event()
    worker = asyncio.create_task(scheduler.run_forever(stop, workers=2))
    await asyncio.sleep(0.05)
    await _enqueue(scheduler, db, ws_id, "k")
    scheduler.wake()
    await asyncio.wait_for(ran.wait(), timeout=2)
    stop.set()
    await asyncio.wait_for(worker, timeout=5)


async def test_jobs_coming_due_one_at_a_time_are_claimed_together(db: Database) -> None:
    """Jobs that come due 5 ms apart (as when each inbox commit queues one) do not cost a
    claim each: claims are spaced by CLAIM_SPACING, so what comes due meanwhile goes in one."""
    clock = SystemClock()
    ws_id = await console_workspace(db, clock)
    done = asyncio.Event()
    ran: list[str] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.key)
        if len(ran) == 20:
            done.set()

    scheduler = Scheduler(db, clock)
    scheduler.register("job", handler)
    # Queued first (however slowly the machine writes them), due over 0.1 s from then on.
    first = clock.now() + timedelta(milliseconds=300)
    for i in range(20):
        due = first + timedelta(milliseconds=5 * i)
        await _enqueue(scheduler, db, ws_id, f"k{i}", due_at=due)
    claims = 0

    def counted(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        nonlocal claims
        if sql.startswith("UPDATE jobs SET") and "attempts" in sql and "finished_at" not in sql:
            claims += 1  # the claim's "take": one statement per claim that took jobs

    stop = asyncio.Event()
    with watching(db, counted):
        worker = asyncio.create_task(scheduler.run_forever(stop))
        try:
            await asyncio.wait_for(done.wait(), timeout=5)
        finally:
            stop.set()
            await asyncio.wait_for(worker, timeout=5)
    assert sorted(ran) == sorted(f"k{i}" for i in range(20))
    # Unspaced, a claim followed each job's due time. Spaced: one per 20 ms over 0.1 s.
    assert claims <= 10, claims


async def test_a_finish_is_one_statement_without_a_transaction_on_postgresql(
    db: Database, clock: ManualClock
) -> None:
    """ "Done" is a single UPDATE, atomic on its own: on PostgreSQL it runs in autocommit (no
    BEGIN and COMMIT round trips)."""
    ws_id = await console_workspace(db, clock)
    scheduler = Scheduler(db, clock)
    scheduler.register("job", lambda ctx: asyncio.sleep(0))
    await _enqueue(scheduler, db, ws_id, "k")
    autocommit: list[bool] = []

    def counted(conn: Any, _cursor: object, sql: str, *_: object) -> None:
        if sql.startswith("UPDATE jobs SET") and "finished_at=" in sql:
            # The driver's own connection: in a transaction of its own, or not.
            autocommit.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    with watching(db, counted):
        assert await scheduler.run_due() == 1
    assert autocommit == [db.engine.dialect.name == "postgresql"]
    assert (await _job(db, ws_id, "k")).status == "done"


async def test_two_replicas_run_each_job_exactly_once(db_url: str) -> None:
    """Two processes' worth of schedulers (their own engines), four workers each, on one
    database: every job runs once, none twice."""
    clock = SystemClock()
    first, second = Database(db_url), Database(db_url)
    try:
        ws_id = await console_workspace(first, clock)
        runs: list[tuple[str, str]] = []
        total = 120 if first.is_sqlite else 400
        all_ran = asyncio.Event()

        def handler_for(name: str) -> object:
            async def handler(ctx: JobContext) -> None:
                runs.append((name, ctx.key))
                await asyncio.sleep(0.002)
                if len(runs) >= total:
                    all_ran.set()

            return handler

        replicas = [Scheduler(first, clock), Scheduler(second, clock)]
        for name, replica in zip(("one", "two"), replicas, strict=True):
            replica.register("job", handler_for(name))  # type: ignore[arg-type]
        async with first.transaction() as session:
            for i in range(total):
                await replicas[0].enqueue(
                    session, workspace_id=ws_id, kind="job", key=f"k{i}", payload="{}"
                )
        stop = asyncio.Event()
        tasks = [asyncio.create_task(r.run_forever(stop, workers=4)) for r in replicas]
        await asyncio.wait_for(all_ran.wait(), timeout=60)
        await asyncio.sleep(0.2)  # a job run twice would show up by now
        stop.set()
        await asyncio.gather(*tasks)  # the pools let their running jobs finish
        async with first.transaction() as session:
            assert await job_store.count_by_status(session) == {"done": total}
        keys = [key for _, key in runs]
        assert len(keys) == total and len(set(keys)) == total
        if not first.is_sqlite:  # on PostgreSQL both really took part
            assert {name for name, _ in runs} == {"one", "two"}
    finally:
        await first.dispose()
        await second.dispose()
