"""/readyz: ready only when the database answers and its schema is the code's newest."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from adapters.server import build_app
from bot.bootstrap import bootstrap, schema_head
from bot.settings import Settings
from store import Database


async def _get(url: str, path: str) -> tuple[int, dict[str, object]]:
    settings = Settings(DATABASE_URL=url, _env_file=None)  # type: ignore[call-arg]
    db = Database(url)
    core = bootstrap(settings, db, {})
    async with TestClient(TestServer(build_app(core, run_worker=False))) as client:
        resp = await client.get(path)
        body = await resp.json()
    await db.dispose()
    return resp.status, body


async def test_ready_on_a_migrated_database(db_url: str) -> None:
    status, body = await _get(db_url, "/readyz")
    assert status == 200 and body["status"] == "ready"
    assert body["schema"] == schema_head() and schema_head() is not None


async def test_alive_but_not_ready_before_the_migrations(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert (await _get(url, "/healthz"))[0] == 200  # the process and database are alive
    status, body = await _get(url, "/readyz")
    assert status == 503
    assert body == {"status": "not ready", "schema": None, "expected": schema_head()}


async def test_not_ready_when_the_database_is_unreachable() -> None:
    status, body = await _get("postgresql+asyncpg://nobody@127.0.0.1:1/none", "/readyz")
    assert status == 503 and body == {"status": "not ready", "database": "unreachable"}
