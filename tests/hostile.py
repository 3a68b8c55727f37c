"""Shared by the hostile-input and fuzz tests: what "nothing was written" and "no leak" mean."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from store import Database
from store.models import Base

# What must never reach a client: a traceback, or an exception's name (ValueError, KeyError...).
LEAK = re.compile(r"Traceback|File \"|\b[A-Z][A-Za-z]*(Error|Exception)\b")


async def row_counts(db: Database) -> dict[str, int]:
    """Rows per table, every table: a 400 must leave all of them as they were."""
    counts: dict[str, int] = {}
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                await session.scalar(select(func.count()).select_from(table)) or 0
            )
    return counts


def leaks(text: str) -> bool:
    return LEAK.search(text) is not None
