"""Badge catalogue, rules and awards.

Readers may cache a workspace's rules (`active_rules`): every change to badges or rules marks
its session (store.workspaces.mark_changed, "badge_rules"), ORM attribute changes included
(the mapper events below), so the unit of work drops what it cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, object_session

from store.common import insert_ignore
from store.models import Badge, BadgeAward, BadgeRule, Member
from store.workspaces import mark_changed

RULES = "badge_rules"  # what is marked changed

_badges: Table = Badge.__table__  # type: ignore[assignment]
_rules: Table = BadgeRule.__table__  # type: ignore[assignment]
_awards: Table = BadgeAward.__table__  # type: ignore[assignment]


def _changed(_mapper: Mapper[Any], _connection: object, target: Badge | BadgeRule) -> None:
    session = object_session(target)
    if session is not None:
        mark_changed(session, RULES, target.workspace_id if isinstance(target, Badge) else None)


for _model in (Badge, BadgeRule):
    for _what in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _what, _changed)


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
    mark_changed(session, RULES, workspace_id)
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


async def active_rules(
    session: AsyncSession, workspace_id: int
) -> tuple[tuple[Badge, BadgeRule], ...]:
    """Every rule of the workspace's badges that are not retired, as copies tied to no session
    (read-only: a cache may share them between transactions)."""
    rows = await session.execute(
        select(_badges, _rules)
        .join(_rules, _rules.c.badge_id == _badges.c.id)
        .where(_badges.c.workspace_id == workspace_id, _badges.c.retired_at.is_(None))
        .order_by(_badges.c.id)
    )
    badge_cols, rule_cols = _badges.columns.keys(), _rules.columns.keys()
    out = []
    for row in rows:
        values = tuple(row)
        badge = Badge(**dict(zip(badge_cols, values[: len(badge_cols)], strict=True)))
        rule = BadgeRule(**dict(zip(rule_cols, values[len(badge_cols) :], strict=True)))
        out.append((badge, rule))
    return tuple(out)


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
    pg = session.bind is not None and session.bind.dialect.name == "postgresql"
    insert = postgresql.insert if pg else sqlite.insert
    stmt = (
        insert(_awards)
        .values(
            workspace_id=workspace_id,
            badge_id=badge_id,
            member_id=member_id,
            award_key=award_key,
            citation=citation,
            awarded_by=awarded_by,
            awarded_at=now,
        )
        .on_conflict_do_nothing(index_elements=["badge_id", "member_id", "award_key"])
        .returning(*_awards.columns)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    # A copy tied to no session: readers use its id and citation.
    return BadgeAward(**dict(zip(_awards.columns.keys(), tuple(row), strict=True)))


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
