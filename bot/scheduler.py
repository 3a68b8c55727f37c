"""Durable jobs: everything that must happen later is a row, run by a small pool of workers.

A job is enqueued inside the transaction of the effect that needs it (`enqueue`), under an
idempotency key, so it exists exactly when the effect does and enqueueing it twice is a no-op.
A capability registers a handler per job kind; the handler gets a `JobContext` and ends in one
of four outcomes:

- done: it returns;
- retry: it raises `RetryLater(reason, delay)` (or anything else, logged): the attempt is spent
  and the job runs again after `delay`, or after an exponential backoff;
- defer: it raises `Defer(until, reason)`: the job waits until `until` and spends no attempt
  (quiet hours, an edit waiting for its original); `RateLimited(reason, retry_after)` is a
  deferral that also holds the job's whole lane (bot/pacing.py) for `retry_after` seconds;
- give up: it raises `GiveUp(reason)`, or its attempts ran out: the job is marked failed and
  `on_give_up(ctx, reason)` is called (the bootstrap tells the workspace's admins), not only
  logged.

Claims: each job is claimed with its own lease (a random token stored on the row) and only when a
worker is free to start it at once, so nothing waits under a lease it holds; a running job's
lease is renewed while it runs. Every outcome is written `WHERE id AND lease_token`, so a worker
that lost its lease (it stalled past the lease, and another took the job over) changes nothing.
A replica claims only kinds it has a handler for and jobs of platforms it serves (jobs with no
platform: any replica), and only when the job's lane lets it go (bot/pacing.py); on PostgreSQL
jobs and lanes are locked FOR UPDATE SKIP LOCKED, so replicas never take the same job.

Attempts are counted at claim and given back when a run defers, so a crash (a run that never
ends) still uses one up and a job that kills its worker every time still gives up.

Stopping: once `stop` is set nothing more is claimed and running jobs finish; a run the
caller's grace cuts short (cancelled) is released at once, pending with its attempt given
back, rather than left claimed until its lease runs out.

`cancel` and `reschedule` work inside the caller's transaction, by key (a claimed question
cancels its escalation; a snooze moves a nudge).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot import logcontext, metrics
from bot.clock import Clock
from bot.outage import DatabaseUnavailable, OutageLog, backoff
from store import ConflictError, Database
from store import jobs as job_store
from store import lanes as lane_store
from store.lanes import LanePolicy
from store.models import Job

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=1)  # renewed every third of it while the job runs
IDLE_POLL = 5.0  # seconds; wake() cuts the wait short when work is enqueued
MIN_WAIT = timedelta(seconds=1)  # the soonest a job that did not finish runs again
REAP_EVERY = timedelta(seconds=5)  # how often a claim also takes back expired leases
RELEASE_WITHIN = 5.0  # seconds a stopping worker spends giving back the jobs it interrupted
PRUNE_EVERY = 600.0  # seconds between prunes of idle lanes (run_forever only)
LANE_RETENTION = timedelta(hours=1)
DEFAULT_WORKERS = 16  # runs at once: most of a run is waiting for the platform
# A claim waits this long after the previous one (run_forever), so the jobs queued meanwhile
# (a poke per inbox commit, each bringing a DM or two) and the slots freed meanwhile go in one
# claim. A claim is a transaction of six statements; taken one or two jobs at a time (at every
# poke and every run's end) it cost the jobs worker twice what the sends did. It delays a job
# by 20 ms at most, and caps the pool at `workers` per 20 ms (800 runs/s at 16).
CLAIM_SPACING = 0.02  # seconds


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a handler knows about the run it is in."""

    id: int
    key: str
    kind: str
    attempt: int  # 1 on the first run; a deferral gives its attempt back
    due_at: datetime  # when this run was due
    created_at: datetime  # when the job was enqueued (e.g. for a cap on deferrals)
    workspace_id: int
    payload: str
    lease_token: str
    platform: str | None = None
    lane: str | None = None
    lane_group: str | None = None  # the workspace's lane, which `lane` also counts in


Handler = Callable[[JobContext], Awaitable[None]]
PayloadHandler = Callable[[str], Awaitable[None]]
GiveUpHook = Callable[[JobContext, str], Awaitable[None]]


class RetryLater(Exception):
    """Run the job again later (after `delay` seconds, if given, else a backoff); spends the
    attempt."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class Defer(Exception):
    """Run the job again at `until`; spends no attempt. The handler owns the cap (how long it
    is willing to wait) and gives up past it."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


class RateLimited(Exception):
    """The platform refused for now (HTTP 429, Retry-After): the job's lane is held for
    `retry_after` seconds, and the job waits for it; spends no attempt."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class GiveUp(Exception):
    """Raised by a handler when trying again cannot help."""


def _context(job: Job) -> JobContext:
    assert job.lease_token is not None
    return JobContext(
        id=job.id,
        key=job.key,
        kind=job.kind,
        attempt=job.attempts,
        due_at=job.due_at,
        created_at=job.created_at,
        workspace_id=job.workspace_id,
        payload=job.payload,
        lease_token=job.lease_token,
        platform=job.platform,
        lane=job.lane,
        lane_group=job.lane_group,
    )


class Scheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        platforms: Collection[str] | None = None,
        on_give_up: GiveUpHook | None = None,
        lanes: LanePolicy | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        lease: timedelta = LEASE,
    ) -> None:
        """`platforms`: the platforms this replica runs jobs for, None for all; a live
        collection (the ports mapping) is read again at every claim."""
        self._db = db
        self._clock = clock
        self._platforms = platforms
        self.on_give_up = on_give_up
        self._lanes = lanes
        self._max_attempts = max_attempts
        self._lease = lease
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        # Also told on every wake(): a door whose jobs run in another process wakes it.
        self.notify: Callable[[], None] | None = None
        self._running: dict[int, str] = {}  # job id -> lease token, for renewals
        self._interrupted: dict[int, str] = {}  # runs cancelled by a stop, to give back
        self._reaped_at: datetime | None = None
        self._finishing: list[tuple[JobContext, asyncio.Future[bool]]] = []
        self._finisher: asyncio.Task[None] | None = None
        self.outage = OutageLog(log, "jobs worker")

    # ----- wiring -----------------------------------------------------------------------

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def register_payload(self, kind: str, handler: PayloadHandler) -> None:
        """For handlers written against the payload string alone."""

        async def run(ctx: JobContext) -> None:
            await handler(ctx.payload)

        run.__name__ = getattr(handler, "__name__", kind)
        self.register(kind, run)

    def serve_platforms(self, platforms: Collection[str] | None) -> None:
        """Which platforms' jobs this replica claims from now on (None: all)."""
        self._platforms = platforms

    def pace_lanes(self, lanes: LanePolicy | None) -> None:
        """The pacing of lanes at claim (bot/pacing.py); Delivery sets it."""
        self._lanes = lanes

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def _served(self) -> set[str] | None:
        return None if self._platforms is None else set(self._platforms)

    # ----- in the caller's transaction --------------------------------------------------

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        workspace_id: int,
        kind: str,
        key: str,
        payload: str,
        due_at: datetime | None = None,
        platform: str | None = None,
        lane: str | None = None,
        lane_group: str | None = None,
    ) -> bool:
        """Adds a job inside the caller's transaction, so it exists exactly when the effect
        does. `platform`: only a replica serving it runs the job; `lane`, `lane_group`: the
        paced lanes it counts in (bot/pacing.py)."""
        if kind not in self._handlers:
            raise ValueError(f"no handler registered for job kind {kind!r}")
        now = self._clock.now()
        return await job_store.enqueue(
            session,
            workspace_id=workspace_id,
            kind=kind,
            key=key,
            payload=payload,
            due_at=due_at or now,
            now=now,
            platform=platform,
            lane=lane,
            lane_group=lane_group,
        )

    async def cancel(self, session: AsyncSession, workspace_id: int, key: str) -> bool:
        """Cancels the job under `key`; True when it had not finished. A job running right now
        may still complete its current run, but its end never makes it pending again."""
        return await job_store.cancel(session, workspace_id, key, self._clock.now())

    async def reschedule(
        self, session: AsyncSession, workspace_id: int, key: str, due_at: datetime
    ) -> bool:
        """Moves the pending job under `key` to `due_at`; False when there is none pending
        (running, finished, cancelled or never queued)."""
        return await job_store.reschedule(session, workspace_id, key, due_at)

    def wake(self) -> None:
        self._wake.set()
        if self.notify is not None:
            self.notify()

    # ----- running ----------------------------------------------------------------------

    async def run_due(self, *, workers: int = 1) -> int:
        """Runs every job that may run now, `workers` at a time, until none is left; returns
        how many runs there were. For tests, the console and benchmarks."""
        return await self._pump(workers, None)

    async def run_forever(self, stop: asyncio.Event, *, workers: int = DEFAULT_WORKERS) -> None:
        """The worker pool: up to `workers` jobs at once, until `stop` is set; jobs running
        then are let finish."""
        pruner = asyncio.create_task(self._prune_lanes(stop), name="jobs-lane-pruner")
        try:
            await self._pump(workers, stop)
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner

    async def _pump(self, workers: int, stop: asyncio.Event | None) -> int:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        ran = 0
        failures = 0  # claims in a row that met an outage
        tasks: set[asyncio.Task[None]] = set()
        claimed_at: float | None = None  # when the last claim was made
        renewer = asyncio.create_task(self._renew_leases(), name="jobs-lease-renewer")
        try:
            while stop is None or not stop.is_set():
                if stop is not None and claimed_at is not None:
                    await self._space_claims(stop, claimed_at)
                    tasks = {t for t in tasks if not t.done()}
                self._wake.clear()  # before the claim: a wake() from now on is not lost
                free = workers - len(tasks)
                claimed: list[JobContext] = []
                if free > 0:
                    claimed_at = time.monotonic()
                    try:
                        claimed = await self._claim(free)
                        failures = 0
                        self.outage.up()
                    except DatabaseUnavailable as exc:
                        if stop is None:
                            raise
                        failures += 1
                        self.outage.down(exc)
                    except Exception:
                        if stop is None:
                            raise
                        log.exception("claiming jobs failed; trying again shortly")
                    for ctx in claimed:
                        # Each run in a log scope of its own (bot/logcontext.py).
                        scope = logcontext.new_context(
                            job_id=ctx.id, job_kind=ctx.kind, workspace_id=ctx.workspace_id
                        )
                        run = asyncio.create_task(
                            self._run(ctx), name=f"job-{ctx.id}", context=scope
                        )
                        tasks.add(run)
                    ran += len(claimed)
                    if claimed and len(claimed) == free:
                        continue  # every worker busy; the next turn waits for one
                if stop is None:
                    if not tasks:
                        return ran  # nothing running and nothing more may run now
                    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    tasks -= done
                    continue
                timeout = IDLE_POLL
                if failures:
                    timeout = backoff(failures)
                elif self._wake.is_set():
                    timeout = 0  # woken while claiming: claim again rather than ask when
                elif len(tasks) < workers:
                    timeout = await self._until_next(timeout)
                await self._wait(tasks, stop, timeout)
                tasks = {t for t in tasks if not t.done()}
            return ran
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        finally:
            try:
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
            finally:  # also when a stop's grace ran out and cancelled the runs
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
                await self._release_interrupted()

    @staticmethod
    async def _space_claims(stop: asyncio.Event, claimed_at: float) -> None:
        """Waits out CLAIM_SPACING since the last claim (or until `stop`)."""
        pause = CLAIM_SPACING - (time.monotonic() - claimed_at)
        if pause > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def _until_next(self, cap: float) -> float:
        try:
            async with self._db.read() as session:  # on PostgreSQL: no BEGIN and COMMIT
                due = await job_store.next_due(session, kinds=self.kinds, platforms=self._served())
        except DatabaseUnavailable as exc:
            self.outage.down(exc)
            return cap
        except Exception:
            log.exception("reading the next due job failed")
            return cap
        if due is None:
            return cap
        # A floor, so a job that is due but held by another claim is not polled in a spin.
        return max(0.005, min(cap, (due - self._clock.now()).total_seconds()))

    async def _wait(
        self, tasks: set[asyncio.Task[None]], stop: asyncio.Event, seconds: float
    ) -> None:
        """Until a job ends, wake() or stop, or `seconds` pass."""
        waits: set[asyncio.Future[Any]] = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        }
        try:
            await asyncio.wait(
                {*waits, *tasks}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waits:
                w.cancel()

    async def _claim(self, limit: int) -> list[JobContext]:
        for attempt in range(3):
            now = self._clock.now()
            try:
                async with self._db.transaction() as session:
                    if self._reaped_at is None or now - self._reaped_at >= REAP_EVERY:
                        taken = await job_store.reap_expired(session, now)
                        if taken:
                            log.warning("%d job(s) had an expired lease; they run again", taken)
                        self._reaped_at = now
                    jobs = await job_store.claim(
                        session,
                        now,
                        limit=limit,
                        lease=self._lease,
                        kinds=self.kinds,
                        platforms=self._served(),
                        pacing=self._lanes,
                        clock=self._clock.now,
                    )
                    contexts = [_context(job) for job in jobs]
            except ConflictError:
                if attempt == 2:
                    raise
                metrics.transaction_retry("job_claim", "conflict")
                await asyncio.sleep(0.01 * (attempt + 1))
                continue
            for ctx in contexts:
                self._running[ctx.id] = ctx.lease_token
            return contexts
        raise AssertionError("unreachable")

    async def _run(self, ctx: JobContext) -> None:
        try:
            await self._run_handler(ctx)
        except DatabaseUnavailable as exc:  # as below, without a traceback per job
            self.outage.down(exc)
        except Exception:
            # Writing the outcome failed (the database is away): the lease runs out, and the
            # job runs again then (at least once).
            log.exception("job %s (%s): recording its outcome failed", ctx.id, ctx.kind)
        except asyncio.CancelledError:
            self._interrupted[ctx.id] = ctx.lease_token  # given back by the pump, at once
            raise
        finally:
            self._running.pop(ctx.id, None)

    async def _run_handler(self, ctx: JobContext) -> None:
        if ctx.attempt > self._max_attempts:
            reason = f"gave up after {ctx.attempt - 1} attempts; the last one never finished"
            await self._give_up(ctx, reason)
            return
        handler = self._handlers[ctx.kind]  # only kinds with a handler are claimed
        try:
            await handler(ctx)
        except Defer as exc:
            await self._defer(ctx, exc.until, f"deferred: {exc.reason}")
        except RateLimited as exc:
            await self._rate_limited(ctx, exc)
        except RetryLater as exc:
            await self._retry(ctx, str(exc), exc.delay)
        except GiveUp as exc:
            await self._give_up(ctx, str(exc))
        except DatabaseUnavailable as exc:
            # Logged once per outage; if the retry can't be written either, the lease runs out.
            self.outage.down(exc)
            await self._retry(ctx, f"database unavailable: {exc}", None)
        except Exception as exc:
            log.exception("job %s (%s) raised", ctx.id, ctx.kind)
            await self._retry(ctx, f"{type(exc).__name__}: {exc}", None)
        else:
            if await self._finish(ctx):
                metrics.job_ran(ctx.kind, ctx.platform, "done")

    async def _finish(self, ctx: JobContext) -> bool:
        """ "Done", written together with the other runs that end meanwhile: runs that end
        while a batch is being written go in the next one (no wait added). At a DM per job,
        one transaction a run was a third of the jobs worker's round trips."""
        self._running.pop(ctx.id, None)  # no renewal from here: the outcome ends the lease
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._finishing.append((ctx, done))
        if self._finisher is None or self._finisher.done():
            # Its own context: it writes for every run, not the one that started it.
            self._finisher = asyncio.create_task(
                self._finish_batches(), name="jobs-finisher", context=contextvars.Context()
            )
        if await done:
            return True
        await self._refused(ctx, "finish")
        return False

    async def _finish_batches(self) -> None:
        while self._finishing:
            batch, self._finishing = self._finishing, []
            held = [(ctx.id, ctx.lease_token) for ctx, _ in batch]
            try:
                write = functools.partial(job_store.finish_many, held=held, now=self._clock.now())
                finished = await self._with_retries("job_outcome", write, one_statement=True)
            except Exception as exc:  # e.g. DatabaseUnavailable: each run learns it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for ctx, done in batch:
                if not done.done():
                    done.set_result(ctx.id in finished)

    async def _with_retries(
        self,
        what: str,
        write: Callable[[Any], Awaitable[_T]],
        *,
        one_statement: bool = False,
    ) -> _T:
        """One transaction, repeated when PostgreSQL broke a deadlock (safe: it wrote
        nothing). `one_statement`: `write` runs a single statement, atomic on its own, on a
        Core connection (on PostgreSQL no BEGIN and COMMIT: one round trip, not three)."""
        for attempt in range(3):
            try:
                if one_statement:
                    async with self._db.connection() as conn:
                        return await write(conn)
                async with self._db.transaction() as session:
                    return await write(session)
            except ConflictError:
                if attempt == 2:
                    raise
                metrics.transaction_retry(what, "conflict")
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _write(
        self,
        ctx: JobContext,
        what: str,
        write: Callable[[AsyncSession], Awaitable[bool]],
    ) -> bool:
        """Writes an outcome if this run still holds the job's lease; says so when not."""
        self._running.pop(ctx.id, None)  # no renewal from here: the outcome ends the lease
        if await self._with_retries("job_outcome", write):
            return True
        await self._refused(ctx, what)
        return False

    async def _refused(self, ctx: JobContext, what: str) -> None:
        """Says why a run's outcome changed nothing: cancelled meanwhile, or taken over."""
        async with self._db.read() as session:
            found = await job_store.holder(session, ctx.id)
        if found is not None and found[0] == job_store.CANCELLED:
            log.info(
                "job %s (%s) was cancelled while it ran; its %s is dropped", ctx.id, ctx.kind, what
            )
        else:
            log.warning(
                "job %s (%s): its lease was taken over by another worker (now %s); this run's "
                "%s is dropped",
                ctx.id,
                ctx.kind,
                found[0] if found else "gone",
                what,
            )

    def _later(self, when: datetime) -> datetime:
        return max(when, self._clock.now() + MIN_WAIT)

    async def _defer(self, ctx: JobContext, until: datetime, reason: str) -> None:
        due = self._later(until)
        if await self._write(
            ctx, "deferral", lambda s: job_store.defer(s, ctx.id, ctx.lease_token, due, reason)
        ):
            metrics.job_ran(ctx.kind, ctx.platform, "deferred")

    async def _rate_limited(self, ctx: JobContext, exc: RateLimited) -> None:
        now = self._clock.now()
        until = now + max(timedelta(seconds=exc.retry_after), MIN_WAIT)
        reason = f"rate limited: {exc}"

        async def write(session: AsyncSession) -> bool:
            lanes = sorted(key for key in (ctx.lane, ctx.lane_group) if key is not None)
            if not lanes:
                return await job_store.defer(session, ctx.id, ctx.lease_token, until, reason)
            # The lanes hold every job on them, this one included (a 429 does not say which
            # limit it was, the conversation's or the workspace's); its due time stays, so it
            # keeps its place in the lane's order. Pushed in key order: no deadlock.
            for key in lanes:
                await lane_store.push(session, key, until)
            return await job_store.defer(session, ctx.id, ctx.lease_token, ctx.due_at, reason)

        log.info(
            "job %s (%s) rate limited on lane %s for %.1fs",
            ctx.id,
            ctx.kind,
            ctx.lane,
            exc.retry_after,
        )
        if await self._write(ctx, "deferral", write):
            metrics.job_ran(ctx.kind, ctx.platform, "rate_limited")

    async def _retry(self, ctx: JobContext, error: str, delay: float | None) -> None:
        if ctx.attempt >= self._max_attempts:
            await self._give_up(ctx, f"gave up after {ctx.attempt} attempts: {error}")
            return
        if delay is None:
            delay = min(5 * 2 ** (ctx.attempt - 1), 3600)
        due = self._later(self._clock.now() + timedelta(seconds=delay))
        if await self._write(
            ctx, "retry", lambda s: job_store.retry_later(s, ctx.id, ctx.lease_token, due, error)
        ):
            metrics.job_ran(ctx.kind, ctx.platform, "retry")

    async def _give_up(self, ctx: JobContext, reason: str) -> None:
        log.warning("job %s (%s, %s) failed for good: %s", ctx.id, ctx.kind, ctx.key, reason)
        given_up = await self._write(
            ctx,
            "give-up",
            lambda s: job_store.give_up(s, ctx.id, ctx.lease_token, self._clock.now(), reason),
        )
        if given_up:
            metrics.job_ran(ctx.kind, ctx.platform, "gave_up")
        if given_up and self.on_give_up is not None:
            try:
                await self.on_give_up(ctx, reason)
            except Exception:
                log.exception("the give-up hook failed for job %s (%s)", ctx.id, ctx.kind)

    async def _release_interrupted(self) -> None:
        """Runs a stop cancelled (its grace ran out) become claimable at once, instead of
        waiting for their lease to run out (bounded: the worker is on its way out)."""
        leases, self._interrupted = self._interrupted, {}
        if not leases:
            return
        try:
            async with asyncio.timeout(RELEASE_WITHIN), self._db.transaction() as session:
                released = await job_store.release(session, leases, "interrupted by a stop")
        except Exception:
            log.exception(
                "releasing %d interrupted job(s) failed; their leases run out", len(leases)
            )
            return
        log.warning("%d job(s) interrupted by the stop were released; they run again", released)

    # ----- housekeeping -----------------------------------------------------------------

    async def _renew_leases(self) -> None:
        every = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            leases = dict(self._running)
            if not leases:
                continue
            try:
                async with self._db.transaction() as session:
                    lost = await job_store.renew(session, leases, self._clock.now() + self._lease)
            except DatabaseUnavailable as exc:
                self.outage.down(exc)
                continue
            except Exception:
                log.exception("renewing job leases failed")
                continue
            for job_id in lost:
                if self._running.get(job_id) == leases[job_id]:
                    log.warning("job %s: lease lost while it ran (cancelled or taken over)", job_id)

    async def _prune_lanes(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PRUNE_EVERY):
                    await stop.wait()
            if stop.is_set():
                return
            try:
                async with self._db.transaction() as session:
                    await lane_store.prune(session, self._clock.now() - LANE_RETENTION)
            except DatabaseUnavailable as exc:
                self.outage.down(exc)
            except Exception:
                log.exception("pruning idle lanes failed")
