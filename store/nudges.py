"""Queries for nudges: consent, content items, requests from other teams, the nudges themselves
and their redirect links. Reads of other capabilities' tables live in bot/nudges/sources.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.common import dialect_of, insert_ignore
from store.models import (
    Member,
    Nudge,
    NudgeContent,
    NudgeLink,
    NudgePrefs,
    NudgeRequest,
    NudgeSettings,
)

QUEUED, DEFERRED, SENT, SUPPRESSED = "queued", "deferred", "sent", "suppressed"
# What the ambassador answered (stored on the nudge, exported as is).
SHARED, SKIPPED, SNOOZED, STOPPED = "shared", "skipped", "snoozed", "stopped"

# ----- settings and short numbers ---------------------------------------------------------


async def settings(session: AsyncSession, workspace_id: int) -> NudgeSettings | None:
    return await session.get(NudgeSettings, workspace_id)


async def settings_row(session: AsyncSession, workspace_id: int, now: datetime) -> NudgeSettings:
    await insert_ignore(
        session,
        NudgeSettings,
        {
            "workspace_id": workspace_id,
            "last_content_number": 0,
            "last_request_number": 0,
            "updated_at": now,
        },
        ("workspace_id",),
    )
    row = await session.get(NudgeSettings, workspace_id, populate_existing=True)
    assert row is not None
    row.updated_at = now
    return row


async def next_number(session: AsyncSession, workspace_id: int, what: str, now: datetime) -> int:
    """Allocates the next C-n (`what="content"`) or A-n (`"request"`). The UPDATE locks the row
    (PostgreSQL) or runs under SQLite's write lock, so two filings never share a number."""
    await settings_row(session, workspace_id, now)
    column = (
        NudgeSettings.last_content_number
        if what == "content"
        else NudgeSettings.last_request_number
    )
    number = await session.scalar(
        update(NudgeSettings)
        .where(NudgeSettings.workspace_id == workspace_id)
        .values({column.key: column + 1})
        .returning(column)
    )
    assert number is not None
    return int(number)


# ----- consent ----------------------------------------------------------------------------


async def prefs(session: AsyncSession, member_id: int, *, lock: bool = False) -> NudgePrefs | None:
    """`lock`: held until the transaction ends (PostgreSQL), so two nudges to one person are
    decided one after the other and the cap holds."""
    query = select(NudgePrefs).where(NudgePrefs.member_id == member_id)
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def prefs_row(
    session: AsyncSession, workspace_id: int, member_id: int, now: datetime
) -> NudgePrefs:
    await insert_ignore(
        session,
        NudgePrefs,
        {
            "member_id": member_id,
            "workspace_id": workspace_id,
            "opted_in": False,
            "kinds": "",
            "updated_at": now,
        },
        ("member_id",),
    )
    row = await prefs(session, member_id, lock=True)
    assert row is not None
    row.updated_at = now
    return row


async def opted_in(session: AsyncSession, workspace_id: int) -> list[tuple[NudgePrefs, Member]]:
    rows = await session.execute(
        select(NudgePrefs, Member)
        .join(Member, Member.id == NudgePrefs.member_id)
        .where(NudgePrefs.workspace_id == workspace_id, NudgePrefs.opted_in.is_(True))
        .order_by(Member.id)
    )
    return [(p, m) for p, m in rows]


# ----- content and requests ---------------------------------------------------------------


async def add_content(session: AsyncSession, **values: object) -> NudgeContent:
    item = NudgeContent(**values)
    session.add(item)
    await session.flush()
    return item


async def content_by_number(
    session: AsyncSession, workspace_id: int, number: int
) -> NudgeContent | None:
    return (
        await session.scalars(
            select(NudgeContent).where(
                NudgeContent.workspace_id == workspace_id, NudgeContent.number == number
            )
        )
    ).first()


async def content_items(session: AsyncSession, workspace_id: int) -> list[NudgeContent]:
    return list(
        await session.scalars(
            select(NudgeContent)
            .where(NudgeContent.workspace_id == workspace_id)
            .order_by(NudgeContent.number)
        )
    )


async def add_request(session: AsyncSession, **values: object) -> NudgeRequest:
    row = NudgeRequest(**values)
    session.add(row)
    await session.flush()
    return row


async def request_by_number(
    session: AsyncSession, workspace_id: int, number: int
) -> NudgeRequest | None:
    return (
        await session.scalars(
            select(NudgeRequest)
            .where(NudgeRequest.workspace_id == workspace_id, NudgeRequest.number == number)
            .with_for_update()
        )
    ).first()


# ----- nudges -----------------------------------------------------------------------------


async def add_nudges(session: AsyncSession, rows: Sequence[dict[str, object]]) -> list[int]:
    """Inserts nudges, skipping (person, subject) pairs that exist; returns the new ids."""
    ids: list[int] = []
    for values in rows:
        if await insert_ignore(session, Nudge, values, ("member_id", "subject")):
            found = await session.scalar(
                select(Nudge.id).where(
                    Nudge.member_id == values["member_id"], Nudge.subject == values["subject"]
                )
            )
            assert found is not None
            ids.append(int(found))
    return ids


async def nudge(session: AsyncSession, nudge_id: int) -> Nudge | None:
    return await session.get(Nudge, nudge_id, populate_existing=True)


async def member_subjects(session: AsyncSession, member_id: int, prefix: str) -> set[str]:
    rows = await session.scalars(
        select(Nudge.subject).where(Nudge.member_id == member_id, Nudge.subject.like(f"{prefix}%"))
    )
    return set(rows)


async def sent_since(session: AsyncSession, member_id: int, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Nudge)
            .where(Nudge.member_id == member_id, Nudge.status == SENT, Nudge.sent_at >= since)
        )
        or 0
    )


async def recent_sent(session: AsyncSession, member_id: int, limit: int = 8) -> list[Nudge]:
    """The person's latest sent nudges, newest first (the fatigue back-off reads them)."""
    return list(
        await session.scalars(
            select(Nudge)
            .where(Nudge.member_id == member_id, Nudge.status == SENT)
            .order_by(Nudge.sent_at.desc(), Nudge.id.desc())
            .limit(limit)
        )
    )


async def pending_for(session: AsyncSession, member_id: int) -> list[Nudge]:
    return list(
        await session.scalars(
            select(Nudge)
            .where(Nudge.member_id == member_id, Nudge.status.in_((QUEUED, DEFERRED)))
            .order_by(Nudge.due_at, Nudge.id)
        )
    )


async def latest_sent_of(session: AsyncSession, member_id: int) -> Nudge | None:
    rows = await recent_sent(session, member_id, 1)
    return rows[0] if rows else None


async def last_response(session: AsyncSession, member_id: int) -> datetime | None:
    return await session.scalar(
        select(func.max(Nudge.responded_at)).where(Nudge.member_id == member_id)
    )


async def week_counts(
    session: AsyncSession, workspace_id: int, since: datetime
) -> list[tuple[str, str, str | None, int]]:
    """(kind, status, reason, count) of the nudges created or sent since `since`."""
    rows = await session.execute(
        select(Nudge.kind, Nudge.status, Nudge.reason, func.count())
        .where(
            Nudge.workspace_id == workspace_id,
            (Nudge.created_at >= since) | (Nudge.sent_at >= since),
        )
        .group_by(Nudge.kind, Nudge.status, Nudge.reason)
    )
    return [(k, s, r, int(n)) for k, s, r, n in rows]


async def content_nudges(
    session: AsyncSession, workspace_id: int, content_id: int | None = None
) -> list[tuple[Nudge, Member, int]]:
    """Content nudges with their person and their link's clicks."""
    query = (
        select(Nudge, Member, func.coalesce(NudgeLink.clicks, 0))
        .join(Member, Member.id == Nudge.member_id)
        .outerjoin(NudgeLink, NudgeLink.nudge_id == Nudge.id)
        .where(Nudge.workspace_id == workspace_id, Nudge.content_id.is_not(None))
        .order_by(Nudge.content_id, Member.display_name, Member.id)
    )
    if content_id is not None:
        query = query.where(Nudge.content_id == content_id)
    return [(n, m, int(c)) for n, m, c in await session.execute(query)]


async def by_subject(session: AsyncSession, member_id: int, subject: str) -> Nudge | None:
    return (
        await session.scalars(
            select(Nudge).where(Nudge.member_id == member_id, Nudge.subject == subject)
        )
    ).first()


# ----- links ------------------------------------------------------------------------------


async def add_link(session: AsyncSession, **values: object) -> bool:
    return await insert_ignore(session, NudgeLink, values, ("nudge_id",))


async def link_of(session: AsyncSession, nudge_id: int) -> NudgeLink | None:
    return (await session.scalars(select(NudgeLink).where(NudgeLink.nudge_id == nudge_id))).first()


async def click(session: AsyncSession, token: str, now: datetime) -> str | None:
    """Counts a click on a live token in one UPDATE; returns where it leads, or None."""
    url = await session.scalar(
        update(NudgeLink)
        .where(NudgeLink.token == token, NudgeLink.expires_at > now)
        .values(clicks=NudgeLink.clicks + 1, last_click_at=now)
        .returning(NudgeLink.url)
    )
    return None if url is None else str(url)


async def members_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Member]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Member).where(Member.id.in_(wanted)))
    return {m.id: m for m in rows}
