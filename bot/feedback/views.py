"""Loads what feedback messages show about items: names, votes, anonymity applied."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.feedback.messages import View
from bot.ids import Platform, WorkspaceRef
from bot.text import mentioned_ids
from store import feedback as fb_store
from store import workspaces as ws_store
from store.models import FeedbackItem, Member


def name(member: Member | None) -> str | None:
    return None if member is None else (member.display_name or member.external_id)


async def views(
    session: AsyncSession,
    workspace: WorkspaceRef,
    items: Sequence[FeedbackItem],
    votes: dict[int, int] | None = None,
) -> list[View]:
    ws_id = items[0].workspace_id if items else 0
    member_ids = [i.submitter_id for i in items] + [i.owner_id for i in items if i.owner_id]
    members = await fb_store.members_by_id(session, member_ids)
    mentioned = {m for i in items for m in mentioned_ids(i.text)}
    names: dict[str, str] = {}
    for user_id in mentioned:
        member = await ws_store.get_member(session, ws_id, user_id)
        names[user_id] = name(member) or user_id
    originals = {
        i.duplicate_of_id: await fb_store.get_item(session, i.duplicate_of_id)
        for i in items
        if i.duplicate_of_id
    }
    out = []
    for item in items:
        count = votes[item.id] if votes and item.id in votes else None
        original = originals.get(item.duplicate_of_id) if item.duplicate_of_id else None
        out.append(
            View(
                item=item,
                workspace=workspace,
                votes=count if count is not None else await fb_store.vote_count(session, item.id),
                submitter=None if item.anonymous else name(members.get(item.submitter_id)),
                owner=name(members.get(item.owner_id)) if item.owner_id else None,
                names=names,
                duplicate_of=original.number if original else None,
            )
        )
    return out


async def view(session: AsyncSession, workspace: WorkspaceRef, item: FeedbackItem) -> View:
    return (await views(session, workspace, [item]))[0]


async def workspace_ref(session: AsyncSession, workspace_id: int) -> WorkspaceRef | None:
    row = await ws_store.get_workspace(session, workspace_id)
    return None if row is None else WorkspaceRef(Platform(row.platform), row.external_id)


async def workspace_zone(session: AsyncSession, workspace_id: int, default: str) -> ZoneInfo:
    settings = await ws_store.get_settings(session, workspace_id)
    zone = getattr(settings, "timezone", None) if settings else None
    try:
        return ZoneInfo(zone or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)
