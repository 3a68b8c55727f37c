"""The console adapter's simulated platform state: channels, messages and reactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import ConsoleChannel, ConsoleMessage, ConsoleReaction


async def ensure_channel(
    session: AsyncSession, workspace_id: int, name: str, *, is_direct: bool = False
) -> ConsoleChannel:
    await insert_ignore(
        session,
        ConsoleChannel,
        {"workspace_id": workspace_id, "name": name, "is_direct": is_direct},
        ("workspace_id", "name"),
    )
    row = await session.scalar(
        select(ConsoleChannel).where(
            ConsoleChannel.workspace_id == workspace_id, ConsoleChannel.name == name
        )
    )
    assert row is not None
    return row


async def post(
    session: AsyncSession,
    channel_id: int,
    author: str,
    text: str,
    now: datetime,
    *,
    thread_id: int | None = None,
    visible_to: str | None = None,
) -> ConsoleMessage:
    row = ConsoleMessage(
        channel_id=channel_id,
        author=author,
        text=text,
        thread_id=thread_id,
        visible_to=visible_to,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_message(session: AsyncSession, message_id: int) -> ConsoleMessage | None:
    return await session.get(ConsoleMessage, message_id)


async def channel_of(session: AsyncSession, message: ConsoleMessage) -> ConsoleChannel | None:
    return await session.get(ConsoleChannel, message.channel_id)


async def history(
    session: AsyncSession, channel_id: int, viewer: str, limit: int = 20
) -> list[ConsoleMessage]:
    rows = await session.scalars(
        select(ConsoleMessage)
        .where(
            ConsoleMessage.channel_id == channel_id,
            (ConsoleMessage.visible_to.is_(None)) | (ConsoleMessage.visible_to == viewer),
        )
        .order_by(ConsoleMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def set_reaction(
    session: AsyncSession, message_id: int, user: str, reaction: str, *, present: bool
) -> bool:
    """Adds or removes a reaction; False when that changed nothing (as on a real platform)."""
    if present:
        return await insert_ignore(
            session,
            ConsoleReaction,
            {"message_id": message_id, "user": user, "reaction": reaction},
            ("message_id", "user", "reaction"),
        )
    result = await session.execute(
        delete(ConsoleReaction).where(
            ConsoleReaction.message_id == message_id,
            ConsoleReaction.user == user,
            ConsoleReaction.reaction == reaction,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def reactions_on(session: AsyncSession, message_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(ConsoleReaction.reaction, ConsoleReaction.user)
        .where(ConsoleReaction.message_id == message_id)
        .order_by(ConsoleReaction.reaction, ConsoleReaction.user)
    )
    return [(r, u) for r, u in rows]
