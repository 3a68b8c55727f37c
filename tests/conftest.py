"""Shared fixtures: databases on SQLite and PostgreSQL, a controllable clock, the core."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.core import Allybot
from bot.ids import ConversationKind, ConversationRef, Platform, UserRef, WorkspaceRef
from bot.settings import Settings
from store import Database
from tests.databases import (
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)
from tests.memory_port import MemoryPort

pytest_plugins = ["tests.fakes.fixtures", "tests.conversation"]

BACKENDS = [
    b.strip() for b in os.environ.get("ALLYBOT_TEST_BACKENDS", "sqlite,postgresql").split(",")
]

# Wednesday 18 November 2026, 10:00 UTC.
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


REFERENCE = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def reference() -> Path:
    """Slack's and Microsoft's published payloads and schemas, copied into tests/fixtures
    (origins and licences in tests/fixtures/SOURCES.md)."""
    return REFERENCE


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(DATA_DIR=tmp_path, ALLYBOT_ADMINS="ana", _env_file=None)  # type: ignore[call-arg]


@pytest_asyncio.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database on each backend (store tests run on both)."""
    if request.param == "sqlite":
        yield await sqlite_database(tmp_path)
    elif request.param == "postgresql":
        url, name = await postgres_database()
        yield url
        await drop_postgres_database(name)
    else:
        raise ValueError(f"unknown backend {request.param!r}")


@pytest_asyncio.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """For platform tests, whose subject is the adapter rather than the backend."""
    return await sqlite_database(tmp_path)


@pytest_asyncio.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def port() -> MemoryPort:
    port = MemoryPort()
    port.add("ana", "Ana", tz="Europe/Paris")
    port.add("bo", "Bo", tz="America/New_York")
    port.add("cy", "Cy", tz="Asia/Tokyo")
    port.add("dee", "Dee")
    port.add("deploybot", "Deploybot", is_bot=True)
    return port


@pytest.fixture
def core(settings: Settings, db: Database, port: MemoryPort, clock: ManualClock) -> Allybot:
    return bootstrap(settings, db, {port.platform: port}, clock)


WS = WorkspaceRef(Platform.CONSOLE, "acme")
GENERAL = ConversationRef(WS, "general", ConversationKind.CHANNEL)


def user(uid: str) -> UserRef:
    return UserRef(WS, uid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import asyncio
    import contextlib

    with contextlib.suppress(Exception):  # the server may be gone; nothing to clean then
        asyncio.run(drop_template())
