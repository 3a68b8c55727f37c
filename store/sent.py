"""Messages the bot has posted, by key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import SentMessage


async def record_sent(
    session: AsyncSession,
    *,
    workspace_id: int,
    key: str,
    conversation_id: str,
    message_id: str,
    now: datetime,
) -> None:
    await insert_ignore(
        session,
        SentMessage,
        {
            "workspace_id": workspace_id,
            "key": key,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "sent_at": now,
        },
        ("workspace_id", "key"),
    )


async def sent_by_key(session: AsyncSession, workspace_id: int, key: str) -> SentMessage | None:
    return await session.scalar(
        select(SentMessage).where(SentMessage.workspace_id == workspace_id, SentMessage.key == key)
    )


async def sent_by_message(
    session: AsyncSession, workspace_id: int, conversation_id: str, message_id: str
) -> SentMessage | None:
    return await session.scalar(
        select(SentMessage).where(
            SentMessage.workspace_id == workspace_id,
            SentMessage.conversation_id == conversation_id,
            SentMessage.message_id == message_id,
        )
    )
