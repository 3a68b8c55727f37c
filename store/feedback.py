"""Feedback items, their votes and history, and the feedback settings of a workspace."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import insert_ignore
from store.models import (
    FeedbackCategory,
    FeedbackChange,
    FeedbackCounter,
    FeedbackItem,
    FeedbackSettings,
    FeedbackVote,
    Member,
)

T = TypeVar("T")

OPEN = ("new", "acknowledged", "planned", "in_progress")
# IN lists are sent in chunks: SQLite and asyncpg cap the bound parameters of one statement.
_CHUNK = 900


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


# ----- settings ---------------------------------------------------------------------------


async def get_settings(session: AsyncSession, workspace_id: int) -> FeedbackSettings | None:
    return await session.get(FeedbackSettings, workspace_id)


async def settings_row(session: AsyncSession, workspace_id: int, now: datetime) -> FeedbackSettings:
    row = await session.get(FeedbackSettings, workspace_id)
    if row is None:
        row = FeedbackSettings(workspace_id=workspace_id, updated_at=now)
        session.add(row)
    row.updated_at = now
    return row


async def get_categories(session: AsyncSession, workspace_id: int) -> list[str]:
    rows = await session.scalars(
        select(FeedbackCategory.name)
        .where(FeedbackCategory.workspace_id == workspace_id)
        .order_by(FeedbackCategory.position, FeedbackCategory.name)
    )
    return list(rows)


async def set_categories(session: AsyncSession, workspace_id: int, names: Sequence[str]) -> None:
    await session.execute(
        delete(FeedbackCategory).where(FeedbackCategory.workspace_id == workspace_id)
    )
    session.add_all(
        FeedbackCategory(workspace_id=workspace_id, name=name, position=i)
        for i, name in enumerate(dict.fromkeys(names))
    )


# ----- items ------------------------------------------------------------------------------


async def next_number(session: AsyncSession, workspace_id: int) -> int:
    """Allocates the next FB number. The UPDATE locks the counter row (PostgreSQL) or runs under
    SQLite's write lock (BEGIN IMMEDIATE), so concurrent filings never share a number."""
    await insert_ignore(
        session,
        FeedbackCounter,
        {"workspace_id": workspace_id, "last_number": 0},
        ("workspace_id",),
    )
    number = await session.scalar(
        update(FeedbackCounter)
        .where(FeedbackCounter.workspace_id == workspace_id)
        .values(last_number=FeedbackCounter.last_number + 1)
        .returning(FeedbackCounter.last_number)
    )
    assert number is not None
    return int(number)


async def add_item(session: AsyncSession, **values: object) -> FeedbackItem:
    item = FeedbackItem(**values)
    session.add(item)
    await session.flush()
    return item


async def get_item(session: AsyncSession, item_id: int) -> FeedbackItem | None:
    return await session.get(FeedbackItem, item_id)


async def item_by_number(
    session: AsyncSession, workspace_id: int, number: int, *, lock: bool = False
) -> FeedbackItem | None:
    stmt = select(FeedbackItem).where(
        FeedbackItem.workspace_id == workspace_id, FeedbackItem.number == number
    )
    if lock and session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def numbers_by_id(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, int]:
    """The FB numbers of items, by item id, in one query (e.g. the originals of duplicates)."""
    out: dict[int, int] = {}
    for chunk in _chunks(item_ids):
        rows = await session.execute(
            select(FeedbackItem.id, FeedbackItem.number).where(FeedbackItem.id.in_(chunk))
        )
        out.update({item_id: number for item_id, number in rows})
    return out


async def item_by_source(
    session: AsyncSession, workspace_id: int, source_key: str
) -> FeedbackItem | None:
    return await session.scalar(
        select(FeedbackItem).where(
            FeedbackItem.workspace_id == workspace_id, FeedbackItem.source_key == source_key
        )
    )


async def list_items(
    session: AsyncSession,
    workspace_id: int,
    *,
    statuses: Sequence[str],
    category: str | None = None,
    submitter_id: int | None = None,
    since: datetime | None = None,
    limit: int | None = 50,
) -> list[tuple[FeedbackItem, int]]:
    """Items with their vote counts, most voted first (votes feed the ranking), then oldest."""
    votes = (
        select(FeedbackVote.item_id, func.count().label("n"))
        .group_by(FeedbackVote.item_id)
        .subquery()
    )
    n = func.coalesce(votes.c.n, 0)
    stmt = (
        select(FeedbackItem, n)
        .outerjoin(votes, votes.c.item_id == FeedbackItem.id)
        .where(FeedbackItem.workspace_id == workspace_id, FeedbackItem.status.in_(statuses))
        .order_by(n.desc(), FeedbackItem.number)
    )
    if category is not None:
        stmt = stmt.where(FeedbackItem.category == category)
    if submitter_id is not None:
        stmt = stmt.where(FeedbackItem.submitter_id == submitter_id)
    if since is not None:
        stmt = stmt.where(FeedbackItem.created_at >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(item, int(count)) for item, count in await session.execute(stmt)]


async def items_between(
    session: AsyncSession, workspace_id: int, column: str, start: datetime, end: datetime
) -> list[FeedbackItem]:
    """Items whose `created_at`, `acknowledged_at` or `closed_at` falls in [start, end)."""
    col = getattr(FeedbackItem, column)
    rows = await session.scalars(
        select(FeedbackItem)
        .where(FeedbackItem.workspace_id == workspace_id, col >= start, col < end)
        .order_by(FeedbackItem.number)
    )
    return list(rows)


async def aging_items(
    session: AsyncSession, workspace_id: int, created_before: datetime
) -> list[FeedbackItem]:
    rows = await session.scalars(
        select(FeedbackItem)
        .where(
            FeedbackItem.workspace_id == workspace_id,
            FeedbackItem.status == "new",
            FeedbackItem.created_at < created_before,
        )
        .order_by(FeedbackItem.number)
    )
    return list(rows)


# ----- votes ------------------------------------------------------------------------------


async def add_vote(session: AsyncSession, item_id: int, member_id: int, now: datetime) -> bool:
    return await insert_ignore(
        session,
        FeedbackVote,
        {"item_id": item_id, "member_id": member_id, "created_at": now},
        ("item_id", "member_id"),
    )


async def vote_count(session: AsyncSession, item_id: int) -> int:
    n = await session.scalar(
        select(func.count()).select_from(FeedbackVote).where(FeedbackVote.item_id == item_id)
    )
    return int(n or 0)


async def vote_counts(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, int]:
    """Votes per item in one query; items without votes count 0."""
    counts = {item_id: 0 for item_id in item_ids}
    for chunk in _chunks(item_ids):
        rows = await session.execute(
            select(FeedbackVote.item_id, func.count())
            .where(FeedbackVote.item_id.in_(chunk))
            .group_by(FeedbackVote.item_id)
        )
        counts.update({item_id: int(n) for item_id, n in rows})
    return counts


async def voters(session: AsyncSession, item_id: int) -> list[int]:
    rows = await session.scalars(
        select(FeedbackVote.member_id)
        .where(FeedbackVote.item_id == item_id)
        .order_by(FeedbackVote.created_at, FeedbackVote.member_id)
    )
    return list(rows)


# ----- history ----------------------------------------------------------------------------


async def add_change(
    session: AsyncSession,
    *,
    item_id: int,
    actor_id: int | None,
    kind: str,
    now: datetime,
    old: str | None = None,
    new: str | None = None,
    note: str | None = None,
) -> FeedbackChange:
    change = FeedbackChange(
        item_id=item_id,
        actor_id=actor_id,
        kind=kind,
        old_value=old,
        new_value=new,
        note=note,
        created_at=now,
    )
    session.add(change)
    await session.flush()
    return change


async def changes(session: AsyncSession, item_id: int) -> list[FeedbackChange]:
    rows = await session.scalars(
        select(FeedbackChange).where(FeedbackChange.item_id == item_id).order_by(FeedbackChange.id)
    )
    return list(rows)


async def last_notes(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, str]:
    """The latest note of each item (the outcome told to its submitter)."""
    notes: dict[int, str] = {}
    for chunk in _chunks(item_ids):
        rows = await session.execute(
            select(FeedbackChange.item_id, FeedbackChange.note)
            .where(FeedbackChange.item_id.in_(chunk), FeedbackChange.note.is_not(None))
            .order_by(FeedbackChange.id)
        )
        notes.update({item_id: note for item_id, note in rows if note})
    return notes


# ----- people -----------------------------------------------------------------------------


async def members_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Member]:
    out: dict[int, Member] = {}
    for chunk in _chunks(ids):
        rows = await session.scalars(select(Member).where(Member.id.in_(chunk)))
        out.update({m.id: m for m in rows})
    return out


async def members_by_external_id(
    session: AsyncSession, workspace_id: int, external_ids: Sequence[str]
) -> dict[str, Member]:
    """Members of a workspace by their platform user id, in one query (e.g. everyone an item's
    text mentions)."""
    out: dict[str, Member] = {}
    for chunk in _chunks(external_ids):
        rows = await session.scalars(
            select(Member).where(Member.workspace_id == workspace_id, Member.external_id.in_(chunk))
        )
        out.update({m.external_id: m for m in rows})
    return out
