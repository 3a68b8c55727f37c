"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from store.migrate import alembic_config, current, upgrade


async def test_migrations_match_the_models(db_url: str) -> None:
    # `alembic check` fails when autogenerate would find anything to add or change.
    await asyncio.to_thread(command.check, alembic_config(db_url))


async def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "base")
    engine = create_async_engine(db_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()
    assert set(tables) <= {"alembic_version"}
    await upgrade(db_url)
    assert await current(db_url) is not None
