"""/readyz: ready only when the database answers, its schema is the code's newest, and no
platform rejected the bot's credentials when they were checked at start."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import Runtime, build_runtime
from adapters.server import build_app
from bot.bootstrap import bootstrap, schema_head
from bot.settings import Settings
from store import Database
from tests.fakes import FakeBotConnector, FakeSlackApi


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


# ----- platform credentials, checked once at start (adapters/credentials.py) ------------------

APP_ID = "00000000-0000-0000-0000-00000000a11b"
SECRET = "the-client-secret-value"


async def _readyz(runtime: Runtime) -> tuple[int, dict[str, Any]]:
    async with TestClient(TestServer(runtime.app)) as client:
        resp = await client.get("/readyz")
        return resp.status, await resp.json()


def _platform_settings(db_url: str, **extra: Any) -> Settings:
    return Settings(DATABASE_URL=db_url, _env_file=None, **extra)  # type: ignore[call-arg]


def _slack(api_url: str, token: str = "xoxb-test-token") -> dict[str, Any]:
    return {
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": api_url,
    }


async def _started(settings: Settings, **kwargs: Any) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(settings, run_worker=False, **kwargs)
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_ready_when_every_platform_accepts_the_credentials(
    sqlite_url: str, fake_slack: FakeSlackApi, fake_connector: FakeBotConnector
) -> None:
    fake_connector.app_password = SECRET
    settings = _platform_settings(
        sqlite_url,
        **_slack(fake_slack.url),
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD=SECRET,
    )
    async for runtime in _started(settings, login_http=fake_connector.login_session()):
        status, body = await _readyz(runtime)
    assert status == 200 and body["status"] == "ready"
    platforms = body["platforms"]
    assert platforms["slack"]["credentials"] == "ok"
    assert platforms["slack"]["reason"] == "team T0001, bot user UBOT"
    assert platforms["teams"]["credentials"] == "ok"
    assert set(platforms["teams"]) == {"credentials", "reason", "checked_at"}
    assert len(fake_slack.calls_to("auth.test")) == 1  # once, at start; /readyz asks nobody
    assert [c.kind for c in fake_connector.logins] == ["openid", "token"]


async def test_not_ready_when_slack_rejects_the_token(
    sqlite_url: str, fake_slack: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    revoked = "xoxb-revoked-0123456789"
    settings = _platform_settings(sqlite_url, **_slack(fake_slack.url, revoked))
    async for runtime in _started(settings):
        status, body = await _readyz(runtime)
        again = await _readyz(runtime)
    assert status == 503 and body["status"] == "not ready"
    reason = "slack: invalid_auth — the bot token was revoked or is wrong"
    assert body["reason"] == reason
    assert body["platforms"]["slack"]["credentials"] == "rejected"
    assert again == (status, body)  # kept, not asked again
    assert len(fake_slack.calls_to("auth.test")) == 1
    assert reason in caplog.text
    assert revoked not in caplog.text and revoked not in json.dumps(body)  # never shown


async def test_an_unreachable_platform_is_unverified_and_still_ready(sqlite_url: str) -> None:
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = _platform_settings(sqlite_url, **_slack(f"http://127.0.0.1:{port}/api/"))
    async for runtime in _started(settings):
        status, body = await _readyz(runtime)
    assert status == 200 and body["status"] == "ready"
    slack = body["platforms"]["slack"]
    assert slack["credentials"] == "unverified"
    assert slack["reason"].startswith("slack: unreachable")


async def test_not_ready_when_teams_rejects_the_client_secret(
    sqlite_url: str, fake_connector: FakeBotConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_connector.app_password = SECRET
    wrong = "an-expired-client-secret"
    settings = _platform_settings(sqlite_url, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD=wrong)
    async for runtime in _started(settings, login_http=fake_connector.login_session()):
        status, body = await _readyz(runtime)
    assert status == 503
    assert body["reason"] == (
        "teams: invalid_client (AADSTS7000215) — MICROSOFT_APP_PASSWORD (the client secret) is "
        "wrong or expired, or MICROSOFT_APP_ID is not its app"
    )
    assert body["platforms"]["teams"]["credentials"] == "rejected"
    assert wrong not in caplog.text and wrong not in json.dumps(body)


async def test_teams_without_an_app_id_is_not_checked(
    sqlite_url: str, fake_connector: FakeBotConnector
) -> None:
    settings = _platform_settings(sqlite_url, TEAMS_ENABLED=True)
    async for runtime in _started(settings, login_http=fake_connector.login_session()):
        status, body = await _readyz(runtime)
    assert status == 200
    teams = body["platforms"]["teams"]
    assert teams["credentials"] == "not checked"
    assert "authentication is off" in teams["reason"]
    assert fake_connector.calls == [] and fake_connector.logins == []
