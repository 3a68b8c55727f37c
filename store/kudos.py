"""Kudos queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Kudos, KudosReaction, KudosTotal, KudosValue


async def add_kudos(
    session: AsyncSession,
    *,
    workspace_id: int,
    giver_id: int,
    recipient_id: int,
    reason: str,
    source: str,
    source_key: str,
    conversation_id: str | None,
    message_id: str | None,
    message_link: str | None,
    values: Iterable[str],
    now: datetime,
) -> Kudos:
    row = Kudos(
        workspace_id=workspace_id,
        giver_id=giver_id,
        recipient_id=recipient_id,
        reason=reason,
        source=source,
        source_key=source_key,
        conversation_id=conversation_id,
        message_id=message_id,
        message_link=message_link,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    session.add_all(KudosValue(kudos_id=row.id, value=v) for v in dict.fromkeys(values))
    return row


async def find_kudos(
    session: AsyncSession, workspace_id: int, giver_id: int, recipient_id: int, source_key: str
) -> Kudos | None:
    return await session.scalar(
        select(Kudos).where(
            Kudos.workspace_id == workspace_id,
            Kudos.giver_id == giver_id,
            Kudos.recipient_id == recipient_id,
            Kudos.source_key == source_key,
        )
    )


async def get_kudos(session: AsyncSession, kudos_id: int) -> Kudos | None:
    return await session.get(Kudos, kudos_id)


async def values_of(session: AsyncSession, kudos_id: int) -> list[str]:
    rows = await session.scalars(
        select(KudosValue.value).where(KudosValue.kudos_id == kudos_id).order_by(KudosValue.value)
    )
    return list(rows)


async def active_given_since(session: AsyncSession, giver_id: int, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Kudos)
        .where(Kudos.giver_id == giver_id, Kudos.created_at >= since, Kudos.revoked_at.is_(None))
    )
    return int(count or 0)


async def add_reaction(session: AsyncSession, kudos_id: int, reaction: str) -> None:
    if await session.get(KudosReaction, (kudos_id, reaction)) is None:
        session.add(KudosReaction(kudos_id=kudos_id, reaction=reaction))


async def remove_reaction(session: AsyncSession, kudos_id: int, reaction: str) -> int:
    """Removes one reaction; returns how many kudos reactions still hold the kudos."""
    await session.execute(
        delete(KudosReaction).where(
            KudosReaction.kudos_id == kudos_id, KudosReaction.reaction == reaction
        )
    )
    left = await session.scalar(
        select(func.count()).select_from(KudosReaction).where(KudosReaction.kudos_id == kudos_id)
    )
    return int(left or 0)


async def kudos_by_source(
    session: AsyncSession,
    workspace_id: int,
    source_key: str,
    *,
    giver_id: int | None = None,
    source: str | None = None,
) -> list[Kudos]:
    stmt = select(Kudos).where(Kudos.workspace_id == workspace_id, Kudos.source_key == source_key)
    if giver_id is not None:
        stmt = stmt.where(Kudos.giver_id == giver_id)
    if source is not None:
        stmt = stmt.where(Kudos.source == source)
    return list(await session.scalars(stmt.order_by(Kudos.id)))


@dataclass(frozen=True, slots=True)
class Window:
    week: int
    month: int
    all_time: int


@dataclass(frozen=True, slots=True)
class KudosStats:
    given: Window
    received: Window


async def stats(
    session: AsyncSession, member_id: int, week_start: datetime, month_start: datetime
) -> KudosStats:
    """Kudos given and received since `week_start`, since `month_start` and in all.

    All time is one row of the totals kept in each kudos' own transaction: a busy person has
    tens of thousands of kudos, and counting them cost 60-80 ms. The week and month are counted
    from the kudos since the earlier start (a few thousand rows at most), because they begin in
    the viewer's time zone while the totals' weeks and months are the workspace's.
    """
    received, given = (
        await session.execute(
            select(
                func.coalesce(func.sum(KudosTotal.received), 0),
                func.coalesce(func.sum(KudosTotal.given), 0),
            ).where(
                KudosTotal.member_id == member_id,
                KudosTotal.period == "all",
                KudosTotal.value == "",
            )
        )
    ).one()
    since = min(week_start, month_start)

    async def window(column: object, all_time: int) -> Window:
        recent = and_(
            column == member_id,  # type: ignore[arg-type]
            Kudos.revoked_at.is_(None),
            Kudos.created_at >= since,
        )
        row = (
            await session.execute(
                select(
                    func.coalesce(func.sum(case((Kudos.created_at >= week_start, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((Kudos.created_at >= month_start, 1), else_=0)), 0),
                ).where(recent)
            )
        ).one()
        return Window(week=int(row[0]), month=int(row[1]), all_time=int(all_time))

    return KudosStats(
        given=await window(Kudos.giver_id, given),
        received=await window(Kudos.recipient_id, received),
    )
