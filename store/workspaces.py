"""Workspaces, their settings, and the people in them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from store.common import dialect_of, insert_ignore
from store.models import (
    DirectRoute,
    KudosReactionSetting,
    Member,
    Workspace,
    WorkspaceSettings,
)


async def ensure_workspace(
    session: AsyncSession, platform: str, external_id: str, now: datetime
) -> Workspace:
    await insert_ignore(
        session,
        Workspace,
        {"platform": platform, "external_id": external_id, "created_at": now},
        ("platform", "external_id"),
    )
    row = await session.scalar(
        select(Workspace).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    assert row is not None
    return row


async def get_workspace(session: AsyncSession, workspace_id: int) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def ensure_member(
    session: AsyncSession, workspace_id: int, external_id: str, now: datetime
) -> Member:
    await insert_ignore(
        session,
        Member,
        {
            "workspace_id": workspace_id,
            "external_id": external_id,
            "is_bot": False,
            "created_at": now,
        },
        ("workspace_id", "external_id"),
    )
    row = await get_member(session, workspace_id, external_id)
    assert row is not None
    return row


@dataclass(frozen=True, slots=True)
class MemberRow:
    """What the directory needs of a member (read with Core: no ORM object, no flush)."""

    id: int
    external_id: str
    display_name: str | None
    tz: str | None
    is_bot: bool
    profile_refreshed_at: datetime | None


_members: Table = Member.__table__  # type: ignore[assignment]
_m = _members.c
_ROW_COLUMNS = (_m.id, _m.external_id, _m.display_name, _m.tz, _m.is_bot, _m.profile_refreshed_at)
_FIND_MEMBERS = select(*_ROW_COLUMNS).where(
    _m.workspace_id == bindparam("ws"), _m.external_id.in_(bindparam("ids", expanding=True))
)
_ADD_MEMBERS = {
    name: insert(_members).on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def _profile_upsert(insert: Any) -> Any:
    """A member's profile written whether or not the member exists yet, and read back: one
    statement. A None field keeps what was stored (a new member gets the defaults)."""
    ins = insert(_members).values(
        workspace_id=bindparam("ws"),
        external_id=bindparam("ext"),
        display_name=bindparam("name", type_=_m.display_name.type),
        tz=bindparam("tz", type_=_m.tz.type),
        is_bot=func.coalesce(bindparam("bot", type_=_m.is_bot.type), False),
        profile_refreshed_at=bindparam("refreshed", type_=_m.profile_refreshed_at.type),
        created_at=bindparam("now", type_=_m.created_at.type),
    )
    return _keeping_what_is_unsaid(
        ins, func.coalesce(bindparam("bot", type_=_m.is_bot.type), _m.is_bot)
    )


def _keeping_what_is_unsaid(ins: Any, is_bot: Any) -> Any:
    """On a known member: each field given as NULL keeps what was stored; the row is read
    back."""
    return ins.on_conflict_do_update(
        index_elements=["workspace_id", "external_id"],
        set_={
            "display_name": func.coalesce(ins.excluded.display_name, _m.display_name),
            "tz": func.coalesce(ins.excluded.tz, _m.tz),
            "is_bot": is_bot,
            "profile_refreshed_at": func.coalesce(
                ins.excluded.profile_refreshed_at, _m.profile_refreshed_at
            ),
        },
    ).returning(*_ROW_COLUMNS)


_UPSERT_PROFILE = {
    "sqlite": _profile_upsert(sqlite.insert),
    "postgresql": _profile_upsert(postgresql.insert),
}


def _profiles_upsert(insert: Any) -> Any:
    """`_profile_upsert` for several members at once, whose is_bot is known: every value is a
    VALUES column, so SQLAlchemy sends the batch as one multi-row INSERT."""
    ins = insert(_members)
    return _keeping_what_is_unsaid(ins, ins.excluded.is_bot)


_UPSERT_PROFILES = {
    "sqlite": _profiles_upsert(sqlite.insert),
    "postgresql": _profiles_upsert(postgresql.insert),
}


@dataclass(frozen=True, slots=True)
class ProfileWrite:
    """One member's profile to write (None or "" keeps a field; `upsert_profiles` needs
    is_bot known)."""

    external_id: str
    display_name: str | None
    tz: str | None
    is_bot: bool | None
    refreshed_at: datetime | None


async def upsert_profiles(
    session: AsyncSession, workspace_id: int, writes: Iterable[ProfileWrite], now: datetime
) -> dict[str, MemberRow]:
    """`upsert_profile` for several members in one statement (in external id order, the order
    their rows lock in); returns the rows by external id."""
    params = [
        {
            "workspace_id": workspace_id,
            "external_id": w.external_id,
            "display_name": w.display_name or None,
            "tz": w.tz or None,
            "is_bot": bool(w.is_bot),  # known: the caller checked
            "profile_refreshed_at": w.refreshed_at,
            "created_at": now,
        }
        for w in sorted(writes, key=lambda w: w.external_id)
    ]
    if not params:
        return {}
    rows = await session.execute(_UPSERT_PROFILES[dialect_of(session)], params)
    return {row.external_id: MemberRow(*row) for row in rows}


async def find_members(
    session: AsyncSession, workspace_id: int, external_ids: Iterable[str]
) -> dict[str, MemberRow]:
    """The members with these ids that exist: one statement, a read."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    rows = await session.execute(_FIND_MEMBERS, {"ws": workspace_id, "ids": wanted})
    return {row.external_id: MemberRow(*row) for row in rows}


async def upsert_profile(
    session: AsyncSession,
    workspace_id: int,
    external_id: str,
    *,
    display_name: str | None,
    tz: str | None,
    is_bot: bool | None,
    refreshed_at: datetime | None,
    now: datetime,
) -> MemberRow:
    """Writes a member's profile (None or "" keeps a field), adding the member if new; returns
    the row."""
    row = (
        await session.execute(
            _UPSERT_PROFILE[dialect_of(session)],
            {
                "ws": workspace_id,
                "ext": external_id,
                "name": display_name or None,
                "tz": tz or None,
                "bot": is_bot,
                "refreshed": refreshed_at,
                "now": now,
            },
        )
    ).one()
    return MemberRow(*row)


async def find_or_add_members(
    session: AsyncSession, workspace_id: int, external_ids: Iterable[str], now: datetime
) -> dict[str, MemberRow]:
    """The members with these ids, the missing ones created first (one insert, in id order):
    at most three statements however many people."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    found = {
        row.external_id: MemberRow(*row)
        for row in await session.execute(_FIND_MEMBERS, {"ws": workspace_id, "ids": wanted})
    }
    missing = [e for e in wanted if e not in found]
    if missing:
        stmt = _ADD_MEMBERS[dialect_of(session)]
        params = [
            {"workspace_id": workspace_id, "external_id": e, "is_bot": False, "created_at": now}
            for e in missing
        ]
        await session.execute(stmt, params)  # one executemany, in id order
        rows = await session.execute(_FIND_MEMBERS, {"ws": workspace_id, "ids": missing})
        found.update((row.external_id, MemberRow(*row)) for row in rows)
    return found


async def get_member(session: AsyncSession, workspace_id: int, external_id: str) -> Member | None:
    return await session.scalar(
        select(Member).where(Member.workspace_id == workspace_id, Member.external_id == external_id)
    )


async def get_member_by_id(session: AsyncSession, member_id: int) -> Member | None:
    return await session.get(Member, member_id)


async def list_members(session: AsyncSession, workspace_id: int) -> list[Member]:
    rows = await session.scalars(
        select(Member).where(Member.workspace_id == workspace_id).order_by(Member.external_id)
    )
    return list(rows)


async def update_profile(
    session: AsyncSession,
    member: Member,
    *,
    display_name: str | None,
    tz: str | None,
    is_bot: bool | None,
    refreshed_at: datetime | None,
) -> None:
    if display_name:
        member.display_name = display_name
    if tz:
        member.tz = tz
    if is_bot is not None:
        member.is_bot = is_bot
    if refreshed_at is not None:
        member.profile_refreshed_at = refreshed_at


async def save_direct_route(
    session: AsyncSession,
    member_id: int,
    *,
    address: str,
    now: datetime,
) -> None:
    route = await session.get(DirectRoute, member_id)
    if route is None:
        session.add(DirectRoute(member_id=member_id, address=address, updated_at=now))
    else:
        route.address = address
        route.updated_at = now


async def get_direct_route(session: AsyncSession, member_id: int) -> DirectRoute | None:
    return await session.get(DirectRoute, member_id)


async def get_settings(session: AsyncSession, workspace_id: int) -> WorkspaceSettings | None:
    return await session.get(WorkspaceSettings, workspace_id)


async def _settings_row(
    session: AsyncSession, workspace_id: int, now: datetime
) -> WorkspaceSettings:
    row = await session.get(WorkspaceSettings, workspace_id)
    if row is None:
        row = WorkspaceSettings(workspace_id=workspace_id, updated_at=now)
        session.add(row)
    row.updated_at = now
    return row


async def set_kudos_allowance(
    session: AsyncSession, workspace_id: int, allowance: int | None, now: datetime
) -> None:
    (await _settings_row(session, workspace_id, now)).kudos_daily_allowance = allowance


async def set_kudos_channel(
    session: AsyncSession, workspace_id: int, channel: str | None, now: datetime
) -> None:
    (await _settings_row(session, workspace_id, now)).kudos_channel = channel


async def set_recognition_channel(
    session: AsyncSession, workspace_id: int, channel: str | None, now: datetime
) -> None:
    (await _settings_row(session, workspace_id, now)).recognition_channel = channel


async def set_timezone(
    session: AsyncSession, workspace_id: int, timezone: str | None, now: datetime
) -> None:
    (await _settings_row(session, workspace_id, now)).timezone = timezone


async def get_kudos_reactions(session: AsyncSession, workspace_id: int) -> list[str]:
    rows = await session.scalars(
        select(KudosReactionSetting.reaction)
        .where(KudosReactionSetting.workspace_id == workspace_id)
        .order_by(KudosReactionSetting.reaction)
    )
    return list(rows)


async def set_kudos_reactions(
    session: AsyncSession, workspace_id: int, reactions: list[str]
) -> None:
    await session.execute(
        delete(KudosReactionSetting).where(KudosReactionSetting.workspace_id == workspace_id)
    )
    session.add_all(
        KudosReactionSetting(workspace_id=workspace_id, reaction=r)
        for r in dict.fromkeys(reactions)
    )


async def latest_direct_route(session: AsyncSession, workspace_id: int) -> DirectRoute | None:
    return await session.scalar(
        select(DirectRoute)
        .join(Member, Member.id == DirectRoute.member_id)
        .where(Member.workspace_id == workspace_id)
        .order_by(DirectRoute.updated_at.desc())
        .limit(1)
    )


async def lock_members(session: AsyncSession, member_ids: Iterable[int]) -> None:
    """Locks members' rows in id order (PostgreSQL), before writing what hangs off them.

    Two kudos in opposite directions (A thanks B while B thanks A) update the same counters and
    totals rows in opposite orders and deadlock; taking the people's locks first, always in the
    same order, serialises them instead. FOR NO KEY UPDATE does not wait for the key-share locks
    that foreign keys take. SQLite runs one writer at a time, so it needs nothing.
    """
    ids = sorted(set(member_ids))
    if not ids or session.bind is None or session.bind.dialect.name != "postgresql":
        return
    await session.execute(
        select(Member.id)
        .where(Member.id.in_(ids))
        .order_by(Member.id)
        .with_for_update(key_share=True)
    )


# ----- what a transaction changed, for the readers that cache it -----------------------------

_CHANGED = "allybot.changed"


def mark_changed(session: AsyncSession | Session, what: str, workspace_id: int | None) -> None:
    """Notes in the session that this transaction changes `what` (e.g. "badge_rules") of a
    workspace (None: of any), so that the units of work sharing that read drop it afterwards
    (bot/work.py, `Work.cached`)."""
    info = session.info
    info.setdefault(_CHANGED, set()).add((what, workspace_id))


def changes(session: AsyncSession | Session) -> set[tuple[str | None, int | None]]:
    marked: set[tuple[str | None, int | None]] = session.info.get(_CHANGED, set())
    return marked


def detached_settings(row: WorkspaceSettings | None) -> WorkspaceSettings | None:
    """A copy of a settings row tied to no session, which units of work can share."""
    if row is None:
        return None
    columns = WorkspaceSettings.__table__.columns.keys()
    return WorkspaceSettings(**{name: getattr(row, name) for name in columns})
