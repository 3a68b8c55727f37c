"""Durable jobs: everything that must happen later is a row, run by one worker loop.

Deliveries use it now; reminders, escalations and nudges will register their own kinds. A job is
claimed with a lease, so one that was running when the process died is picked up again after a
restart, and the idempotency key makes enqueueing the same work twice a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from store import Database
from store import jobs as job_store

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
IDLE_POLL = 5.0  # seconds; wake() cuts the wait short when work is enqueued


class RetryLater(Exception):
    """Raised by a handler to run the job again later (after `delay`, if given)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """Raised by a handler when trying again cannot help."""


class Scheduler:
    def __init__(self, db: Database, clock: Clock, *, batch: int = 20) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        workspace_id: int,
        kind: str,
        key: str,
        payload: str,
        due_at: datetime | None = None,
    ) -> bool:
        """Adds a job inside the caller's transaction, so it exists exactly when the effect does."""
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
        )

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Runs every job due now; returns how many ran."""
        ran = 0
        while True:
            now = self._clock.now()
            async with self._db.transaction() as session:
                claimed = await job_store.claim_due(session, now, limit=self._batch, lease=LEASE)
                work = [(job.id, job.kind, job.payload, job.attempts) for job in claimed]
            if not work:
                return ran
            for job_id, kind, payload, attempts in work:
                await self._run_one(job_id, kind, payload, attempts)
                ran += 1

    async def _run_one(self, job_id: int, kind: str, payload: str, attempts: int) -> None:
        handler = self._handlers.get(kind)
        error: str
        delay: float | None = None
        try:
            if handler is None:
                raise GiveUp(f"no handler for job kind {kind!r}")
            await handler(payload)
        except RetryLater as exc:
            error, delay = str(exc), exc.delay
        except GiveUp as exc:
            log.warning("job %s (%s) failed for good: %s", job_id, kind, exc)
            async with self._db.transaction() as session:
                await job_store.give_up(session, job_id, self._clock.now(), str(exc))
            return
        except Exception as exc:
            log.exception("job %s (%s) raised", job_id, kind)
            error = f"{type(exc).__name__}: {exc}"
        else:
            async with self._db.transaction() as session:
                await job_store.finish(session, job_id, self._clock.now())
            return

        now = self._clock.now()
        async with self._db.transaction() as session:
            if attempts >= MAX_ATTEMPTS:
                log.error(
                    "job %s (%s) gave up after %d attempts: %s", job_id, kind, attempts, error
                )
                await job_store.give_up(session, job_id, now, error)
            else:
                backoff = delay if delay is not None else min(5 * 2 ** (attempts - 1), 3600)
                await job_store.retry_later(
                    session, job_id, now + timedelta(seconds=backoff), error
                )

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_due()
                async with self._db.transaction() as session:
                    due = await job_store.next_due(session)
            except Exception:
                log.exception("job worker loop failed; retrying")
                due = None
            timeout = IDLE_POLL
            if due is not None:
                timeout = max(0.0, min(IDLE_POLL, (due - self._clock.now()).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    waits = [asyncio.ensure_future(self._wake.wait())]
                    waits.append(asyncio.ensure_future(stop.wait()))
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
