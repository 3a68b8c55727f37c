"""Loads what feedback messages show about items, inside a unit of work: names, votes and
originals, with anonymity applied, as the plain facts of bot/feedback/messages.py.

Each load is a fixed number of queries however many items it covers (one per kind of fact,
batched with IN lists), so a list, an export or a digest never costs a query per item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.feedback.messages import Change, Item, View, fb
from bot.ids import Platform, WorkspaceRef
from bot.text import mentioned_ids
from bot.work import Work
from store import Database
from store import feedback as fb_store
from store import workspaces as ws_store
from store.models import FeedbackItem, Member


def name(member: Member | None) -> str | None:
    return None if member is None else (member.display_name or member.external_id)


def item_facts(item: FeedbackItem) -> Item:
    return Item(
        id=item.id,
        number=item.number,
        text=item.text,
        status=item.status,
        category=item.category,
        source_link=item.source_link,
        created_at=item.created_at,
        acknowledged_at=item.acknowledged_at,
        closed_at=item.closed_at,
    )


async def item(work: Work, number: int) -> FeedbackItem:
    """The workspace's item FB-`number`, locked for the rest of the unit (PostgreSQL)."""
    found = await fb_store.item_by_number(work.session, work.ws_id, number, lock=True)
    if found is None:
        raise UserError(
            f"There's no feedback {fb(number)} in this workspace; feedback list shows the "
            "open items."
        )
    return found


async def views(
    work: Work, items: Sequence[FeedbackItem], votes: Mapping[int, int] | None = None
) -> list[View]:
    """`votes`: counts the caller already has (a list ranked by them); the rest are counted."""
    session = work.session
    member_ids = [i.submitter_id for i in items] + [i.owner_id for i in items if i.owner_id]
    members = await fb_store.members_by_id(session, member_ids)
    mentioned = list(dict.fromkeys(m for i in items for m in mentioned_ids(i.text)))
    by_user = await fb_store.members_by_external_id(session, work.ws_id, mentioned)
    names = {user_id: name(by_user.get(user_id)) or user_id for user_id in mentioned}
    originals = await fb_store.numbers_by_id(
        session, [i.duplicate_of_id for i in items if i.duplicate_of_id]
    )
    counts = dict(votes or {})
    missing = [i.id for i in items if i.id not in counts]
    counts.update(await fb_store.vote_counts(session, missing))
    return [
        View(
            item=item_facts(i),
            workspace=work.workspace,
            votes=counts[i.id],
            submitter=None if i.anonymous else name(members.get(i.submitter_id)),
            owner=name(members.get(i.owner_id)) if i.owner_id else None,
            names=names,
            duplicate_of=originals.get(i.duplicate_of_id) if i.duplicate_of_id else None,
        )
        for i in items
    ]


async def view(work: Work, item: FeedbackItem) -> View:
    return (await views(work, [item]))[0]


async def history(work: Work, item: FeedbackItem) -> list[Change]:
    """The item's changes, oldest first, each actor named (one query for all of them)."""
    rows = await fb_store.changes(work.session, item.id)
    actors = await fb_store.members_by_id(work.session, [c.actor_id for c in rows if c.actor_id])
    return [
        Change(
            kind=c.kind,
            at=c.created_at,
            actor=name(actors.get(c.actor_id)) if c.actor_id else None,
            old=c.old_value,
            new=c.new_value,
            note=c.note,
            on_behalf=bool(c.actor_id and c.actor_id != item.submitter_id),
        )
        for c in rows
    ]


async def workspace_ref(session: AsyncSession, workspace_id: int) -> WorkspaceRef | None:
    row = await ws_store.get_workspace(session, workspace_id)
    return None if row is None else WorkspaceRef(Platform(row.platform), row.external_id)


async def workspace_of(db: Database, workspace_id: int) -> WorkspaceRef | None:
    """The workspace a stored id names, for jobs queued before their payload carried it."""
    async with db.transaction() as session:
        return await workspace_ref(session, workspace_id)
