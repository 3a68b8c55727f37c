"""Slack in Socket Mode, end to end: slack_sdk's Socket Mode client (through bolt's
AsyncSocketModeHandler) connected to a local fake Socket Mode server, Web API calls into the fake
Web API, the real core and store.

Socket Mode redeliveries carry no retry headers (`retry_attempt`/`retry_reason` are fields of a
new envelope, with a new envelope_id): dedupe holds on the payload's event_id, at the door.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.settings import Settings
from store.models import InboxEvent, Kudos
from tests.fakes import FakeSlackApi, FakeSocketMode
from tests.helpers import deliver_all

TEAM = "T0001"
APP_TOKEN = "xapp-1-A0001-test"


@dataclass
class SocketSystem:
    runtime: Runtime
    api: FakeSlackApi
    socket: FakeSocketMode
    db_url: str

    async def deliver(self) -> None:
        await deliver_all(self.runtime.core)

    async def count(self, model: type) -> int:
        async with self.runtime.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        return [c.args for c in self.api.calls_to("chat.postMessage") if c.args["channel"] == user]


@pytest_asyncio.fixture
async def socket_system(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SocketSystem]:
    fake_slack.add_user("U1", "Ana", real_name="Ana Lopez", tz="Europe/Paris")
    fake_slack.add_user("U2", "Bo", real_name="Bo Chen", tz="America/New_York")
    fake_slack.app_token = APP_TOKEN
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN=APP_TOKEN,  # and no signing secret: Socket Mode only
        SLACK_API_URL=fake_slack.url,
        ALLYBOT_ADMINS="U1",
        _env_file=None,
    )
    async with FakeSocketMode() as socket:
        socket.attach(fake_slack)
        runtime = await build_runtime(settings, clock=clock, run_worker=False)
        try:
            assert runtime.socket_mode is not None
            await runtime.socket_mode.connect_async()
            await socket.wait_connected()
            yield SocketSystem(runtime, fake_slack, socket, db_url)
        finally:
            await runtime.close()


def reaction_payload(event_id: str, *, ts: str = "1700000000.000100") -> dict[str, Any]:
    """The Events API body Slack puts in an events_api envelope's payload."""
    return {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        "event": {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "clap",
            "item": {"type": "message", "channel": "C1", "ts": ts},
            "item_user": "U2",
            "event_ts": "1700000001.000200",
        },
    }


def kudos_dms(system: SocketSystem) -> list[dict[str, Any]]:
    return [a for a in system.dms_to("U2") if "gave you kudos" in str(a.get("text"))]


async def test_hello_then_an_event_is_acknowledged_and_applied(
    socket_system: SocketSystem,
) -> None:
    api = socket_system.api
    (opened,) = api.calls_to("apps.connections.open")
    assert opened.ok and opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    envelope = await socket_system.socket.envelope("events_api", reaction_payload("EvS1"))
    ack = await socket_system.socket.wait_ack(envelope)
    assert ack.data == {"envelope_id": envelope}  # an event's ack carries no payload
    assert await socket_system.count(InboxEvent) == 1  # durable when acknowledged
    await socket_system.deliver()
    assert await socket_system.count(Kudos) == 1
    (dm,) = kudos_dms(socket_system)
    assert "*Ana* gave you kudos" in dm["text"]


async def test_a_redelivered_envelope_is_acknowledged_and_applied_once(
    socket_system: SocketSystem,
) -> None:
    socket = socket_system.socket
    payload = reaction_payload("EvS2")
    first = await socket.envelope("events_api", payload)
    await socket.wait_ack(first)
    # Slack did not get the ack in time: the same payload again, in a new envelope, with the
    # retry fields Slack sets (no headers in Socket Mode) - before it was applied...
    again = await socket.envelope("events_api", payload, retry_attempt=1, retry_reason="timeout")
    assert (await socket.wait_ack(again)).data == {"envelope_id": again}
    assert again != first
    assert await socket_system.count(InboxEvent) == 1
    await socket_system.deliver()
    # ... and after.
    late = await socket.envelope("events_api", payload, retry_attempt=2, retry_reason="timeout")
    await socket.wait_ack(late)
    await socket_system.deliver()
    assert await socket_system.count(InboxEvent) == 1
    assert await socket_system.count(Kudos) == 1
    assert len(kudos_dms(socket_system)) == 1  # one DM in the fake Web API's log
    stats = await socket.envelope("slash_commands", command_payload("kudos stats <@U2>"))
    assert "received: 1 this week" in str((await socket.wait_ack(stats)).payload)


async def test_a_redelivery_on_a_new_connection_is_applied_once(
    socket_system: SocketSystem,
) -> None:
    socket = socket_system.socket
    payload = reaction_payload("EvS3")
    await socket.wait_ack(await socket.envelope("events_api", payload))
    # Slack refreshes the connection; an envelope it thinks unacknowledged comes again there.
    await socket.disconnect()
    await socket.wait_connected(2)
    assert len(socket_system.api.calls_to("apps.connections.open")) == 2
    again = await socket.envelope("events_api", payload, retry_attempt=1, retry_reason="timeout")
    ack = await socket.wait_ack(again)
    assert ack.connection == 2
    await socket_system.deliver()
    assert await socket_system.count(InboxEvent) == 1  # a no-op at the door
    assert await socket_system.count(Kudos) == 1
    assert len(kudos_dms(socket_system)) == 1


def command_payload(text: str, *, trigger: str | None = None) -> dict[str, Any]:
    """A slash command as a slash_commands envelope carries it (the form's fields, as JSON)."""
    return {
        "token": "x",
        "team_id": TEAM,
        "team_domain": "example",
        "channel_id": "C1",
        "channel_name": "general",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/ally",
        "text": text,
        "api_app_id": "A0001",
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0001/1/x",
        "trigger_id": trigger or f"trig-{time.monotonic_ns()}",
    }


async def test_a_slash_command_is_answered_in_its_ack(socket_system: SocketSystem) -> None:
    socket = socket_system.socket
    envelope = await socket.envelope(
        "slash_commands", command_payload("kudos <@U2> thanks for the demo #teamwork")
    )
    ack = await socket.wait_ack(envelope)
    assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
    assert "Kudos sent to *Bo*" in ack.payload["text"]
    assert await socket_system.count(Kudos) == 1  # committed before the ack went back
    await socket_system.deliver()
    (dm,) = kudos_dms(socket_system)
    assert "thanks for the demo #teamwork" in dm["text"]
    assert socket_system.api.calls_to("response_url") == []  # the ack carried the answer


@pytest.mark.parametrize(
    ("kind", "payload", "why"),
    [
        ("events_api", dict(reaction_payload("EvBad1"), event=None), "needs an event object"),
        ("events_api", dict(reaction_payload("EvBad2"), team="T0001"), "team"),
        ("interactive", {"type": "block_actions", "actions": []}, "actions"),
        ("interactive", {"type": "block_actions", "actions": ["x"]}, "actions.0"),
        ("slash_commands", {"command": "/ally", "text": 7}, "must be strings"),
    ],
)
async def test_a_malformed_payload_is_acknowledged_logged_and_writes_nothing(
    socket_system: SocketSystem,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    payload: dict[str, Any],
    why: str,
) -> None:
    """Socket Mode payloads skip the HTTP door, so the same shape checks run as bolt
    middleware (adapters/slack/app.py `_socket_edge`): bolt and our translation never see a
    shape they would crash on. Acknowledged, as Slack would only send it again."""
    envelope = await socket_system.socket.envelope(kind, payload)
    ack = await socket_system.socket.wait_ack(envelope)
    assert ack.payload is None
    assert "rejected a malformed Slack Socket Mode payload" in caplog.text
    assert why in caplog.text
    assert "Traceback" not in caplog.text
    assert await socket_system.count(InboxEvent) == 0
    assert await socket_system.count(Kudos) == 0


@contextlib.contextmanager
def sqlite_write_lock(db_url: str) -> Iterator[None]:
    """Holds SQLite's write lock from another connection, as a busy second process would."""
    conn = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("COMMIT")
    finally:
        conn.close()


@contextlib.asynccontextmanager
async def postgres_inbox_lock(db_url: str) -> AsyncIterator[None]:
    """Blocks every write to the inbox table until the block ends."""
    url = make_url(db_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")
        yield
        await tx.commit()
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def writes_blocked(db_url: str) -> AsyncIterator[None]:
    if make_url(db_url).get_backend_name() == "sqlite":
        with sqlite_write_lock(db_url):
            yield
    else:
        async with postgres_inbox_lock(db_url):
            yield


async def test_the_ack_waits_until_the_event_is_committed(socket_system: SocketSystem) -> None:
    socket = socket_system.socket
    async with writes_blocked(socket_system.db_url):
        envelope = await socket.envelope("events_api", reaction_payload("EvS4"))
        with pytest.raises(AssertionError, match="timed out"):
            await socket.wait_ack(envelope, timeout=0.5)  # the inbox row can't be written yet
    await socket.wait_ack(envelope)
    assert await socket_system.count(InboxEvent) == 1
    assert await socket_system.count(Kudos) == 0  # acknowledged: committed, not yet applied
    await socket_system.deliver()
    assert await socket_system.count(Kudos) == 1


async def test_the_app_token_opens_the_connection_and_nothing_else(
    fake_slack: FakeSlackApi,
) -> None:
    """The fake Web API tells the two tokens apart as Slack does."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    async with FakeSocketMode() as socket:
        socket.attach(fake_slack)
        client = AsyncWebClient(token="xoxb-test-token", base_url=fake_slack.url)
        opened = await client.apps_connections_open(app_token=fake_slack.app_token)
        assert str(opened["url"]).startswith(f"ws://127.0.0.1:{socket.port}/link/?ticket=")
        for call in (
            client.apps_connections_open(app_token="xoxb-test-token"),
            AsyncWebClient(token=fake_slack.app_token, base_url=fake_slack.url).auth_test(),
        ):
            with pytest.raises(SlackApiError) as refused:
                await call
            assert refused.value.response["error"] == "not_allowed_token_type"
