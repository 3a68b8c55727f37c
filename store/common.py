"""Helpers shared by the query modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Base


async def insert_ignore(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    conflict: Sequence[str],
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either backend; True when a row was inserted."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
