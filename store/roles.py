"""Roles per workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import Member, Role


async def roles_of(session: AsyncSession, member_id: int) -> set[str]:
    rows = await session.scalars(select(Role.role).where(Role.member_id == member_id))
    return set(rows)


async def grant(
    session: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    role: str,
    granted_by: int | None,
    now: datetime,
) -> bool:
    """True when granted now, False when the person already had the role."""
    return await insert_ignore(
        session,
        Role,
        {
            "workspace_id": workspace_id,
            "member_id": member_id,
            "role": role,
            "granted_by": granted_by,
            "granted_at": now,
        },
        ("member_id", "role"),
    )


async def revoke(session: AsyncSession, member_id: int, role: str) -> bool:
    result = await session.execute(
        delete(Role).where(Role.member_id == member_id, Role.role == role)
    )
    return bool(getattr(result, "rowcount", 0))


async def count_with(session: AsyncSession, workspace_id: int, role: str) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Role)
        .where(Role.workspace_id == workspace_id, Role.role == role)
    )
    return int(n or 0)


async def holders(session: AsyncSession, workspace_id: int) -> list[tuple[str, Member]]:
    rows = await session.execute(
        select(Role.role, Member)
        .join(Member, Member.id == Role.member_id)
        .where(Role.workspace_id == workspace_id)
        .order_by(Role.role, Member.display_name, Member.external_id)
    )
    return [(role, member) for role, member in rows]


async def members_with(session: AsyncSession, workspace_id: int, roles: list[str]) -> list[Member]:
    """Members holding any of `roles`, each once, oldest first."""
    rows = await session.scalars(
        select(Member)
        .join(Role, Role.member_id == Member.id)
        .where(Role.workspace_id == workspace_id, Role.role.in_(roles))
        .order_by(Member.id)
        .distinct()
    )
    return list(rows)
