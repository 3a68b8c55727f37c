"""Sending messages: every outbound message is a job, committed with the effect that caused it.

What is guaranteed, precisely:

- **Never lost once acknowledged.** The delivery job is written in the same transaction as the
  effect (the kudos, the status change) and the deduplicated event, so when the platform got
  its acknowledgement the message is queued durably, and a platform retry of the same event
  queues nothing twice (same idempotency key).
- **At least once, not exactly once.** A send is a platform call followed by a separate
  transaction that records the outcome. If the process dies, or loses the database, between the
  platform accepting the message and that transaction committing, the job's lease runs out and
  the message is sent again: the recipient may see it twice. The same happens when the platform
  accepted a message but its answer never arrived (a timeout, a dropped connection): that is
  retried like any failure. Neither Slack's chat.postMessage
  nor the Bot Connector accepts an idempotency key, so this window cannot be closed from here;
  it is as wide as one platform round trip plus up to two commits (the runs that end while
  one batch of outcomes is being written are written in the next one). Two narrower cases:
  - a message sent under a key (`Outbound.key`, the posts that are edited later) is recorded in
    `sent_messages` right after the call; a later run that finds that record skips the call, so
    only a crash between the call and that record repeats it;
  - a worker that stalls longer than its lease (60 s, renewed every 20 s while it runs) can
    have its job taken over by another worker, which sends again; the stalled one's outcome is
    then ignored (the lease token no longer matches).
- **Paced.** Each message is counted in a lane (its channel or DM, bot/pacing.py) and is not
  started before the lane allows, across every worker and replica; a 429 holds the whole lane
  for its Retry-After and re-queues the message without spending an attempt.
- **Given up, and said so.** A final platform error (the user left, the channel was archived),
  8 failed attempts, or a message still undeliverable a day after it was queued (rate limited
  all day, or an edit whose original never went out) is marked failed and reported through the
  scheduler's `on_give_up` hook. When the platform refuses the bot itself (a revoked token, a
  missing scope: `DeliveryError.rejected`), every send there fails alike: each is given up at
  once, and `on_rejected` tells the admins and the ops channel once per workspace, reason and
  hour instead of once per message (bot/workspace.py, Admins.platform_rejected).
- **Order** is not guaranteed, not even within one lane: messages on different lanes go out
  concurrently, and a lane's burst allowance may start two of its messages together. An edit
  waits for its original (it is deferred, without spending attempts, until the original is
  recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import NoReturn

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot import logcontext
from bot.clock import Clock
from bot.ids import WorkspaceRef
from bot.messages import Edit, Outbound, Private, ToUser
from bot.pacing import (
    LanePacing,
    Pace,
    lane_for,
    pace_of,
    workspace_lane,
    workspace_pace_of,
)
from bot.ports import ChatPort, DeliveryError, Sent
from bot.scheduler import Defer, GiveUp, JobContext, RateLimited, RetryLater, Scheduler
from store import Database
from store import jobs as job_store
from store import sent as sent_store

log = logging.getLogger(__name__)

KIND = "deliver"
# How long a message may wait without spending attempts (rate limits, an edit's original)
# before it is given up.
MAX_WAIT = timedelta(days=1)
NO_PORT_WAIT = timedelta(seconds=60)

RejectedHook = Callable[[JobContext, WorkspaceRef, DeliveryError], Awaitable[None]]


class DeliveryJob(BaseModel):
    workspace: WorkspaceRef
    workspace_id: int
    outbound: Outbound | None = None
    edit: Edit | None = None


class Delivery:
    def __init__(
        self, db: Database, clock: Clock, scheduler: Scheduler, ports: Mapping[str, ChatPort]
    ) -> None:
        self._db = db
        self._clock = clock
        self._scheduler = scheduler
        self._ports = ports  # live: ports added later are used (and paced) from then on
        # Told when a platform refuses the bot itself (DeliveryError.rejected); the bootstrap
        # sets Admins.platform_rejected.
        self.on_rejected: RejectedHook | None = None
        scheduler.register(KIND, self.run)
        scheduler.pace_lanes(LanePacing(self.pace, self.workspace_pace))

    def pace(self, platform: str) -> Pace | None:
        port = self._ports.get(platform)
        return None if port is None else pace_of(port.capabilities)

    def workspace_pace(self, platform: str) -> Pace | None:
        port = self._ports.get(platform)
        return None if port is None else workspace_pace_of(port.capabilities)

    async def send(
        self,
        session: AsyncSession,
        workspace: WorkspaceRef,
        workspace_id: int,
        key: str,
        item: Outbound | Edit,
    ) -> None:
        job = DeliveryJob(
            workspace=workspace,
            workspace_id=workspace_id,
            outbound=item if isinstance(item, Outbound) else None,
            edit=item if isinstance(item, Edit) else None,
        )
        if isinstance(item, Outbound):
            port = self._ports.get(workspace.platform)
            ephemeral = port.capabilities.ephemeral if port is not None else True
            lane: str | None = lane_for(workspace, item.target, ephemeral=ephemeral)
        else:
            # An edit counts where its original went (known from the original's job).
            original = await job_store.get_job(session, workspace_id, f"{KIND}:{item.key}")
            lane = original.lane if original is not None else None
        await self._scheduler.enqueue(
            session,
            workspace_id=workspace_id,
            kind=KIND,
            key=f"{KIND}:{key}",
            payload=job.model_dump_json(),
            platform=workspace.platform,
            lane=lane,
            lane_group=workspace_lane(workspace),
        )

    async def was_queued(self, session: AsyncSession, workspace_id: int, key: str) -> bool:
        """Whether anything was ever queued under `key` (the job key scheme stays in here)."""
        return await job_store.get_job(session, workspace_id, f"{KIND}:{key}") is not None

    async def run(self, ctx: JobContext) -> None:
        """The job handler: one send or edit, and what its outcome means for the queue."""
        job = DeliveryJob.model_validate_json(ctx.payload)
        logcontext.bind(workspace=job.workspace)
        port = self._ports.get(job.workspace.platform)
        if port is None:
            # Only when this replica was set to run every platform's jobs.
            self._wait(ctx, NO_PORT_WAIT, f"no adapter running for {job.workspace.platform}")
        try:
            if job.outbound is not None:
                await self._send(ctx, port, job, job.outbound)
            elif job.edit is not None:
                await self._edit(ctx, port, job, job.edit)
        except DeliveryError as exc:
            if exc.retryable and exc.retry_after is not None:
                if self._clock.now() - ctx.created_at > MAX_WAIT:
                    raise GiveUp(f"still rate limited a day after it was queued: {exc}") from exc
                raise RateLimited(str(exc), exc.retry_after) from exc
            if exc.retryable:
                raise RetryLater(str(exc)) from exc
            if exc.rejected is not None:
                await self._rejected(ctx, job.workspace, exc)
                raise GiveUp(f"{exc} (the platform refuses the bot: admins told)") from exc
            raise GiveUp(str(exc)) from exc

    async def _rejected(self, ctx: JobContext, workspace: WorkspaceRef, exc: DeliveryError) -> None:
        """The platform refuses the bot itself (its token, its scopes): `on_rejected` tells the
        admins, throttled. Its failure never keeps the job from being given up."""
        if self.on_rejected is None:
            return
        try:
            await self.on_rejected(ctx, workspace, exc)
        except Exception:
            log.exception("could not report that %s refuses the bot's sends", workspace)

    def _wait(self, ctx: JobContext, delay: timedelta, reason: str) -> NoReturn:
        """Defers the job (no attempt spent), or gives it up once it has waited MAX_WAIT."""
        now = self._clock.now()
        if now - ctx.created_at > MAX_WAIT:
            raise GiveUp(f"{reason}, a day after it was queued")
        raise Defer(now + delay, reason)

    async def _send(self, ctx: JobContext, port: ChatPort, job: DeliveryJob, out: Outbound) -> None:
        # Only a run after one that spent its attempt can find its message already sent (a
        # deferral gives its attempt back, and deferred runs never send).
        if out.key is not None and ctx.attempt > 1:
            async with self._db.transaction() as session:
                if await sent_store.sent_by_key(session, job.workspace_id, out.key):
                    # An earlier run sent it and died before finishing its job.
                    log.info("message %r was sent before; not sending it again", out.key)
                    return
        target = out.target
        if isinstance(target, Private) and not port.capabilities.ephemeral:
            target = ToUser(user=target.user)
        sent = await port.send(job.workspace, target, out.message)
        if sent is not None and out.key is not None:
            async with self._db.transaction() as session:
                await sent_store.record_sent(
                    session,
                    workspace_id=job.workspace_id,
                    key=out.key,
                    conversation_id=sent.conversation_id,
                    message_id=sent.message_id,
                    now=self._clock.now(),
                )

    async def _edit(self, ctx: JobContext, port: ChatPort, job: DeliveryJob, edit: Edit) -> None:
        async with self._db.transaction() as session:
            row = await sent_store.sent_by_key(session, job.workspace_id, edit.key)
            found = None if row is None else Sent(row.conversation_id, row.message_id)
            original = None
            if found is None:
                original = await job_store.get_job(session, job.workspace_id, f"{KIND}:{edit.key}")
        if found is None:
            if original is not None and original.status in (job_store.FAILED, job_store.CANCELLED):
                raise GiveUp(f"message {edit.key!r} was never sent ({original.status})")
            if original is not None and original.status == job_store.DONE:
                raise GiveUp(f"message {edit.key!r} left nothing to edit (not recorded)")
            # Still queued (or paced): wait for it without spending attempts, polling less
            # often the longer it takes.
            waited = self._clock.now() - ctx.created_at
            delay = min(max(waited / 10, timedelta(seconds=5)), timedelta(minutes=10))
            self._wait(ctx, delay, f"message {edit.key!r} not sent yet")
        await port.update(job.workspace, found, edit.message)
