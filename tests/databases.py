"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.

PostgreSQL databases are cloned from a template migrated once per run, so each test starts
from the real migrations without paying for them every time.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import pytest

from store.migrate import upgrade

PG_ADMIN_DSN = os.environ.get("ALLYBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_TEMPLATE = f"allybot_tpl_{uuid.uuid4().hex[:8]}"
_template_ready = False


def _sa_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncio.wait_for(asyncpg.connect(PG_ADMIN_DSN), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL at {PG_ADMIN_DSN} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: the PostgreSQL store tests must run)")
        pytest.skip(message)


async def postgres_database() -> tuple[str, str]:
    """Creates a database migrated to head; returns (SQLAlchemy URL, name)."""
    global _template_ready
    conn = await _admin()
    try:
        if not _template_ready:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}"')
            await conn.execute(f'CREATE DATABASE "{_TEMPLATE}"')
            await upgrade(_sa_url(PG_ADMIN_DSN, _TEMPLATE))
            _template_ready = True
        name = f"allybot_t_{uuid.uuid4().hex[:10]}"
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"')
        return _sa_url(PG_ADMIN_DSN, name), name
    finally:
        await conn.close()


async def drop_postgres_database(name: str) -> None:
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_template() -> None:
    if _template_ready:
        await drop_postgres_database(_TEMPLATE)


async def sqlite_database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'allybot.db'}"
    await upgrade(url)
    return url
