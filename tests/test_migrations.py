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


async def test_0004_keeps_stored_teams_routes(tmp_path: object) -> None:
    """Routes stored before 0004 (three Teams columns) read back through the adapter's
    opaque encoding after it, and survive a downgrade."""
    from sqlalchemy import text

    from adapters.teams.addresses import Route

    url = f"sqlite+aiosqlite:///{tmp_path}/routes.db"
    await upgrade(url, "0003")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO workspaces (id, platform, external_id, created_at) "
                "VALUES (1, 'teams', 'tenant', '2026-11-01 00:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO members (id, workspace_id, external_id, is_bot, created_at) "
                "VALUES (7, 1, '29:ana', 0, '2026-11-01 00:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO direct_routes (member_id, conversation_id, service_url, bot_id, "
                "updated_at) VALUES (7, 'a:chat', 'https://smba.example/', '28:bot', "
                "'2026-11-01 00:00:00')"
            )
        )
    await upgrade(url)
    async with engine.connect() as conn:
        address = (await conn.execute(text("SELECT address FROM direct_routes"))).scalar_one()
    assert Route.decode(address) == Route("a:chat", "https://smba.example/", "28:bot")
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0003")
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT conversation_id, service_url, bot_id FROM direct_routes")
            )
        ).one()
    await engine.dispose()
    assert tuple(row) == ("a:chat", "https://smba.example/", "28:bot")
