"""Kudos queries.

What a kudos given by reaction runs (`given_and_existing`, `add_kudos`, `add_reaction`) uses
Core statements built once per dialect: SQLAlchemy caches their compiled form, and no ORM
identity map or flush is involved. The rows they return are copies tied to no session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, func, literal, select, true
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Kudos, KudosReaction, KudosTotal, KudosValue

_kudos: Table = Kudos.__table__  # type: ignore[assignment]
_values: Table = KudosValue.__table__  # type: ignore[assignment]
_reactions: Table = KudosReaction.__table__  # type: ignore[assignment]
_COLUMNS = tuple(_kudos.columns.keys())
_built: dict[tuple[str, bool], Any] = {}


def _pg(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def _once(name: str, pg: bool, build: Callable[[bool], Any]) -> Any:
    stmt = _built.get((name, pg))
    if stmt is None:
        stmt = _built[name, pg] = build(pg)
    return stmt


def _detached(row: Sequence[Any]) -> Kudos:
    return Kudos(**dict(zip(_COLUMNS, row, strict=True)))


def _insert_kudos(pg: bool) -> Any:
    return _kudos.insert().returning(_kudos.c.id)


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
    """The new kudos (a copy tied to no session), with its values."""
    fields = {
        "workspace_id": workspace_id,
        "giver_id": giver_id,
        "recipient_id": recipient_id,
        "reason": reason,
        "source": source,
        "source_key": source_key,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "message_link": message_link,
        "created_at": now,
        "revoked_at": None,
    }
    kudos_id = (
        await session.execute(_once("insert", _pg(session), _insert_kudos), fields)
    ).scalar_one()
    distinct = list(dict.fromkeys(values))
    if distinct:
        await session.execute(
            _values.insert(), [{"kudos_id": kudos_id, "value": v} for v in distinct]
        )
    return Kudos(id=kudos_id, **fields)


def _given_and_existing(pg: bool) -> Any:
    k = _kudos.c
    used = (
        select(func.count())
        .select_from(_kudos)
        .where(
            k.giver_id == bindparam("giver"),
            k.created_at >= bindparam("since"),
            k.revoked_at.is_(None),
        )
        .scalar_subquery()
    )
    found = (
        select(_kudos)
        .where(
            k.workspace_id == bindparam("ws"),
            k.giver_id == bindparam("giver"),
            k.source_key == bindparam("source_key"),
            k.recipient_id.in_(bindparam("recipients", expanding=True)),
        )
        .subquery("found")
    )
    one = select(literal(1).label("one")).subquery("one")
    return select(used, *found.c).select_from(one.outerjoin(found, true())).order_by(found.c.id)


async def given_and_existing(
    session: AsyncSession,
    workspace_id: int,
    giver_id: int,
    since: datetime,
    source_key: str,
    recipient_ids: Sequence[int],
) -> tuple[int, dict[int, Kudos]]:
    """In one statement: how many kudos the giver has given since `since` and not taken back,
    and the kudos they already gave each of these recipients for `source_key` (copies tied to
    no session; change them with `restore_kudos`)."""
    rows = await session.execute(
        _once("given_and_existing", _pg(session), _given_and_existing),
        {
            "giver": giver_id,
            "since": since,
            "ws": workspace_id,
            "source_key": source_key,
            "recipients": list(recipient_ids),
        },
    )
    used, existing = 0, {}
    for row in rows:
        used = int(row[0] or 0)
        if row[1] is not None:
            kudos = _detached(row[1:])
            existing[kudos.recipient_id] = kudos
    return used, existing


async def restore_kudos(session: AsyncSession, kudos: Kudos, now: datetime) -> None:
    """Given again after it was taken back: it counts from now."""
    await session.execute(
        sql_update(_kudos).where(_kudos.c.id == kudos.id).values(revoked_at=None, created_at=now)
    )
    kudos.revoked_at, kudos.created_at = None, now


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


def _add_reaction(pg: bool) -> Any:
    insert = postgresql.insert if pg else sqlite.insert
    return insert(_reactions).on_conflict_do_nothing(
        index_elements=[_reactions.c.kudos_id, _reactions.c.reaction]
    )


async def add_reaction(session: AsyncSession, kudos_id: int, reaction: str) -> None:
    """One more kudos emoji holding the kudos (a no-op when it already does)."""
    await session.execute(
        _once("add_reaction", _pg(session), _add_reaction),
        {"kudos_id": kudos_id, "reaction": reaction},
    )


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
