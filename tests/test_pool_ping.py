"""PostgreSQL: a pooled connection the server dropped while it sat idle is replaced before a
transaction meets it (store/session.py `_ping_when_idle`), without a ping on every checkout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

import store.session
from store import Database
from store.errors import DatabaseUnavailable
from tests.databases import drop_postgres_database, postgres_database


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    url, name = await postgres_database()
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()
        await drop_postgres_database(name)


async def _backend_pid(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _drop(db: Database, pid: int) -> None:
    """The server ends that connection (as a restart or an idle timeout would)."""
    conn = await asyncpg.connect(db.url.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.session, "PING_IDLE", 0.0)
    first = await _backend_pid(pg)
    await _drop(pg, first)
    assert await _backend_pid(pg) != first  # a new connection, and no error


async def test_a_busy_connection_is_not_pinged(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(self)
        ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    for _ in range(5):
        await _backend_pid(pg)
    assert pings == []  # in steady use: no round trips but the transactions' own
    monkeypatch.setattr(store.session, "PING_IDLE", 0.0)
    await _backend_pid(pg)
    assert len(pings) == 1  # idle (here: at all) since its last use: checked first


async def test_without_the_idle_check_the_dropped_connection_fails_a_transaction(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above is what saves that transaction (this test fails if the pool pinged on
    every checkout, as pool_pre_ping did, or if the idle check ran regardless)."""
    monkeypatch.setattr(store.session, "PING_IDLE", 3600.0)
    first = await _backend_pid(pg)
    await _drop(pg, first)
    with pytest.raises(DatabaseUnavailable):
        await _backend_pid(pg)
    assert await _backend_pid(pg) != first  # the pool was invalidated: the next one is new
