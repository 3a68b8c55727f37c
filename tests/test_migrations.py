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


async def test_0010_keeps_every_score_count(db_url: str) -> None:
    """Counts kept before 0010 become shard 0 of theirs; a downgrade folds the shards of each
    count back into one row, so every board's ranks add up the same on either side."""
    from sqlalchemy import text

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0009")
    engine = create_async_engine(db_url)
    board = "1, 'all', '2000-01-01', ''"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO workspaces (id, platform, external_id, created_at) "
                "VALUES (1, 'slack', 'T1', '2026-11-01 00:00:00')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO kudos_score_counts (workspace_id, period, period_start, value, "
                f"direction, score, people) VALUES ({board}, 'received', 1, 5), "
                f"({board}, 'received', 2, 3), ({board}, 'given', 1, 4)"
            )
        )
    await upgrade(db_url)
    counts = "SELECT direction, score, shard, people FROM kudos_score_counts"
    async with engine.begin() as conn:
        before = sorted(tuple(r) for r in await conn.execute(text(counts)))
        await conn.execute(
            text(
                "INSERT INTO kudos_score_counts (workspace_id, period, period_start, value, "
                f"direction, score, shard, people) VALUES ({board}, 'received', 1, 3, 2), "
                f"({board}, 'received', 1, 5, -1), ({board}, 'given', 3, 6, 1)"
            )
        )
    assert before == [("given", 1, 0, 4), ("received", 1, 0, 5), ("received", 2, 0, 3)]
    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0009")
    async with engine.connect() as conn:
        folded = "SELECT direction, score, people FROM kudos_score_counts"
        after = sorted(tuple(r) for r in await conn.execute(text(folded)))
    await engine.dispose()
    assert after == [("given", 1, 4), ("given", 3, 1), ("received", 1, 6), ("received", 2, 3)]
    await upgrade(db_url)
