"""Deduplication of inbound deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import ProcessedEvent


async def claim_event(
    session: AsyncSession, workspace_id: int, event_id: str, kind: str, now: datetime
) -> bool:
    """Records the event; False when it was recorded before (a retry or duplicate delivery)."""
    return await insert_ignore(
        session,
        ProcessedEvent,
        {"workspace_id": workspace_id, "event_id": event_id, "kind": kind, "processed_at": now},
        ("workspace_id", "event_id"),
    )
