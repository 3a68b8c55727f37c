"""Queries for `kudos review`: how often each person thanked each other person lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Kudos, Member


@dataclass(frozen=True, slots=True)
class PairCount:
    giver_id: int
    recipient_id: int
    kudos: int


async def pair_counts(session: AsyncSession, workspace_id: int, since: datetime) -> list[PairCount]:
    """Kudos standing (not taken back) since `since`, per giver and recipient."""
    rows = await session.execute(
        select(Kudos.giver_id, Kudos.recipient_id, func.count())
        .where(
            Kudos.workspace_id == workspace_id,
            Kudos.created_at >= since,
            Kudos.revoked_at.is_(None),
        )
        .group_by(Kudos.giver_id, Kudos.recipient_id)
    )
    return [PairCount(int(g), int(r), int(n)) for g, r, n in rows]


async def names(session: AsyncSession, member_ids: set[int]) -> dict[int, tuple[str, str]]:
    """member id -> (external id, display name) for the people a review names."""
    if not member_ids:
        return {}
    rows = await session.execute(
        select(Member.id, Member.external_id, Member.display_name).where(Member.id.in_(member_ids))
    )
    return {int(i): (str(ext), str(name or ext)) for i, ext, name in rows}
