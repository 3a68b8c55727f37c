"""Sending messages: every outbound message is a job, committed with the effect that caused it.

So an acknowledged kudos always reaches its recipient, even across a crash, and a platform retry
of the same event never sends twice (the event is deduplicated in the same transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.ids import WorkspaceRef
from bot.messages import Edit, Outbound, Private, ToUser
from bot.ports import ChatPort, DeliveryError, Sent
from bot.scheduler import GiveUp, RetryLater, Scheduler
from store import Database
from store import jobs as job_store
from store import sent as sent_store

log = logging.getLogger(__name__)

KIND = "deliver"


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
        self._ports = ports
        scheduler.register(KIND, self._run)

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
        await self._scheduler.enqueue(
            session,
            workspace_id=workspace_id,
            kind=KIND,
            key=f"{KIND}:{key}",
            payload=job.model_dump_json(),
        )

    async def was_queued(self, session: AsyncSession, workspace_id: int, key: str) -> bool:
        """Whether anything was ever queued under `key` (the job key scheme stays in here)."""
        return await job_store.get_job(session, workspace_id, f"{KIND}:{key}") is not None

    async def _run(self, payload: str) -> None:
        job = DeliveryJob.model_validate_json(payload)
        port = self._ports.get(job.workspace.platform)
        if port is None:
            raise RetryLater(f"no adapter running for {job.workspace.platform}", delay=60)
        try:
            if job.outbound is not None:
                await self._send(port, job, job.outbound)
            elif job.edit is not None:
                await self._edit(port, job, job.edit)
        except DeliveryError as exc:
            if exc.retryable:
                raise RetryLater(str(exc), exc.retry_after) from exc
            raise GiveUp(str(exc)) from exc

    async def _send(self, port: ChatPort, job: DeliveryJob, out: Outbound) -> None:
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

    async def _edit(self, port: ChatPort, job: DeliveryJob, edit: Edit) -> None:
        async with self._db.transaction() as session:
            row = await sent_store.sent_by_key(session, job.workspace_id, edit.key)
            found = None if row is None else Sent(row.conversation_id, row.message_id)
        if found is None:
            # The original may still be waiting in the queue; try again shortly.
            raise RetryLater(f"message {edit.key!r} not sent yet", delay=10)
        await port.update(job.workspace, found, edit.message)
