"""Badge catalogue, rules and awards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import Badge, BadgeAward, BadgeRule, Member


async def get_badge(session: AsyncSession, workspace_id: int, slug: str) -> Badge | None:
    return await session.scalar(
        select(Badge).where(Badge.workspace_id == workspace_id, Badge.slug == slug)
    )


async def has_badges(session: AsyncSession, workspace_id: int) -> bool:
    found = await session.scalar(
        select(Badge.id).where(Badge.workspace_id == workspace_id).limit(1)
    )
    return found is not None


async def list_badges(
    session: AsyncSession, workspace_id: int
) -> list[tuple[Badge, BadgeRule | None]]:
    rows = await session.execute(
        select(Badge, BadgeRule)
        .outerjoin(BadgeRule, BadgeRule.badge_id == Badge.id)
        .where(Badge.workspace_id == workspace_id)
        .order_by(Badge.retired_at.is_not(None), Badge.name)
    )
    return [(b, r) for b, r in rows]


async def add_badge(
    session: AsyncSession,
    *,
    workspace_id: int,
    slug: str,
    name: str,
    emoji: str,
    description: str,
    how_earned: str,
    repeatable: bool,
    citation_required: bool,
    image_url: str | None,
    now: datetime,
) -> bool:
    """False when the slug is taken in this workspace."""
    return await insert_ignore(
        session,
        Badge,
        {
            "workspace_id": workspace_id,
            "slug": slug,
            "name": name,
            "emoji": emoji,
            "description": description,
            "how_earned": how_earned,
            "repeatable": repeatable,
            "citation_required": citation_required,
            "image_url": image_url,
            "created_at": now,
            "updated_at": now,
        },
        ("workspace_id", "slug"),
    )


async def get_rule(session: AsyncSession, badge_id: int) -> BadgeRule | None:
    return await session.get(BadgeRule, badge_id)


async def set_rule(
    session: AsyncSession, badge_id: int, counter: str, threshold: int, now: datetime
) -> None:
    row = await session.get(BadgeRule, badge_id)
    if row is None:
        session.add(
            BadgeRule(badge_id=badge_id, counter=counter, threshold=threshold, updated_at=now)
        )
    else:
        row.counter, row.threshold, row.updated_at = counter, threshold, now


async def drop_rule(session: AsyncSession, badge_id: int) -> bool:
    row = await session.get(BadgeRule, badge_id)
    if row is None:
        return False
    await session.delete(row)
    return True


async def rules_for(
    session: AsyncSession, workspace_id: int, counters: set[str]
) -> list[tuple[Badge, BadgeRule]]:
    rows = await session.execute(
        select(Badge, BadgeRule)
        .join(BadgeRule, BadgeRule.badge_id == Badge.id)
        .where(
            Badge.workspace_id == workspace_id,
            Badge.retired_at.is_(None),
            BadgeRule.counter.in_(counters),
        )
    )
    return [(b, r) for b, r in rows]


async def award(
    session: AsyncSession,
    *,
    workspace_id: int,
    badge_id: int,
    member_id: int,
    award_key: str,
    citation: str,
    awarded_by: int | None,
    now: datetime,
) -> BadgeAward | None:
    """The new award, or None when this key was awarded before (idempotent)."""
    added = await insert_ignore(
        session,
        BadgeAward,
        {
            "workspace_id": workspace_id,
            "badge_id": badge_id,
            "member_id": member_id,
            "award_key": award_key,
            "citation": citation,
            "awarded_by": awarded_by,
            "awarded_at": now,
        },
        ("badge_id", "member_id", "award_key"),
    )
    if not added:
        return None
    return await session.scalar(
        select(BadgeAward).where(
            BadgeAward.badge_id == badge_id,
            BadgeAward.member_id == member_id,
            BadgeAward.award_key == award_key,
        )
    )


async def active_award(session: AsyncSession, badge_id: int, member_id: int) -> BadgeAward | None:
    return await session.scalar(
        select(BadgeAward)
        .where(
            BadgeAward.badge_id == badge_id,
            BadgeAward.member_id == member_id,
            BadgeAward.revoked_at.is_(None),
        )
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc())
        .limit(1)
    )


async def rule_awards_count(session: AsyncSession, badge_id: int, member_id: int) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(BadgeAward)
        .where(
            BadgeAward.badge_id == badge_id,
            BadgeAward.member_id == member_id,
            BadgeAward.award_key.like("rule%"),
        )
    )
    return int(n or 0)


@dataclass(frozen=True, slots=True)
class Held:
    badge: Badge
    award: BadgeAward
    awarded_by: Member | None


async def held_by(session: AsyncSession, member_id: int) -> list[Held]:
    rows = await session.execute(
        select(Badge, BadgeAward, Member)
        .join(BadgeAward, BadgeAward.badge_id == Badge.id)
        .outerjoin(Member, Member.id == BadgeAward.awarded_by)
        .where(BadgeAward.member_id == member_id, BadgeAward.revoked_at.is_(None))
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc())
    )
    return [Held(b, a, m) for b, a, m in rows]


async def holders_count(session: AsyncSession, badge_id: int) -> int:
    n = await session.scalar(
        select(func.count(func.distinct(BadgeAward.member_id))).where(
            BadgeAward.badge_id == badge_id, BadgeAward.revoked_at.is_(None)
        )
    )
    return int(n or 0)


async def awarded_since(
    session: AsyncSession, workspace_id: int, since: datetime
) -> list[tuple[Member, Badge, BadgeAward]]:
    rows = await session.execute(
        select(Member, Badge, BadgeAward)
        .join(BadgeAward, BadgeAward.member_id == Member.id)
        .join(Badge, Badge.id == BadgeAward.badge_id)
        .where(
            BadgeAward.workspace_id == workspace_id,
            BadgeAward.awarded_at >= since,
            BadgeAward.revoked_at.is_(None),
        )
        .order_by(Member.display_name, Member.id, BadgeAward.awarded_at)
    )
    return [(m, b, a) for m, b, a in rows]
