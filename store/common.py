"""Helpers shared by the query modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Base

# (model, dialect, conflict columns) -> (a Core INSERT ... ON CONFLICT DO NOTHING built once,
# attribute name -> column name where they differ). Building the statement with `.values()` on
# every call (the ORM's bulk-insert path) cost more CPU than running it.
_inserts: dict[tuple[type[Base], str, tuple[str, ...]], tuple[Any, dict[str, str]]] = {}


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert_ignore(
    model: type[Base], dialect: str, conflict: tuple[str, ...]
) -> tuple[Any, dict[str, str]]:
    table: Table = model.__table__  # type: ignore[assignment]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    renames = {
        prop.key: prop.columns[0].key
        for prop in inspect(model).column_attrs
        if prop.key != prop.columns[0].key
    }
    return stmt, renames


async def insert_ignore(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    conflict: Sequence[str],
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either backend; True when a row was inserted."""
    key = (model, dialect_of(session), tuple(conflict))
    built = _inserts.get(key)
    if built is None:
        built = _inserts[key] = _insert_ignore(*key)
    stmt, renames = built
    params = {renames.get(k, k): v for k, v in values.items()} if renames else dict(values)
    result = await session.execute(stmt, params)
    return bool(getattr(result, "rowcount", 0))
