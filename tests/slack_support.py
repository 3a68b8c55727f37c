"""Runs the real system (bolt AsyncApp behind our aiohttp server) against the fake Web API."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.settings import Settings
from tests.fakes import FakeSlackApi, form_body, interactive_body, slack_signed_headers
from tests.helpers import deliver_all

SECRET = "test-signing-secret"
TEAM = "T0001"
# U1 claps U2's message in C1: a kudos once the clap counts (the default).
CLAP = {
    "type": "reaction_added",
    "user": "U1",
    "reaction": "clap",
    "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
    "item_user": "U2",
    "event_ts": "1700000001.000200",
}


@dataclass
class SlackSystem:
    runtime: Runtime
    api: FakeSlackApi
    url: str
    http: aiohttp.ClientSession

    async def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str = SECRET,
    ) -> aiohttp.ClientResponse:
        signed = slack_signed_headers(secret, body, timestamp=timestamp, content_type=content_type)
        signed.update(headers or {})
        resp = await self.http.post(f"{self.url}/slack/events", data=body, headers=signed)
        await resp.read()
        return resp

    async def command(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        command: str = "/ally",
        trigger: str | None = None,
    ) -> dict[str, Any]:
        body = form_body(
            {
                "team_id": TEAM,
                "channel_id": channel,
                "channel_name": "directmessage" if channel.startswith("D") else "general",
                "user_id": user,
                "command": command,
                "text": text,
                "trigger_id": trigger or f"trig-{time.monotonic_ns()}",
                "response_url": self.api.response_url(),
            }
        )
        resp = await self.post(body, "application/x-www-form-urlencoded")
        assert resp.status == 200, await resp.text()
        raw = await resp.read()
        return json.loads(raw) if raw else {}

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        envelope = {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.post(json.dumps(envelope), "application/json", headers=headers)

    async def action(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        return await self.post(interactive_body(payload), "application/x-www-form-urlencoded")

    async def deliver(self) -> None:
        await deliver_all(self.runtime.core)

    def sent(self, method: str, **match: str) -> list[dict[str, Any]]:
        return [
            c.args
            for c in self.api.calls_to(method)
            if c.ok and all(str(c.args.get(k)) == v for k, v in match.items())
        ]


def block_action(
    action_id: str, value: str, *, user: str, channel: str, trigger: str | None = None
) -> dict[str, Any]:
    """A `block_actions` payload: `user` pressed a button of a message the bot sent in
    `channel` (a DM is the user's D... channel)."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": trigger or f"btn-{action_id}-{user}",
        "channel": {"id": channel, "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": channel},
        "message": {"ts": "1.1", "type": "message"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": "1700000002.000001",
            }
        ],
    }


def slack_settings(db_url: str, api: FakeSlackApi, **extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        ALLYBOT_ADMINS="U1",
        _env_file=None,
        **extra,
    )


async def start_slack(
    db_url: str, api: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    api.add_user("U1", "Ana", real_name="Ana Lopez", tz="Europe/Paris")
    api.add_user("U2", "Bo", real_name="Bo Chen", tz="America/New_York")
    api.add_user("U3", "Cy", real_name="Cy Sato", tz="Asia/Tokyo")
    api.add_user("B9", "deploybot", is_bot=True)
    runtime = await build_runtime(slack_settings(db_url, api), clock=clock, run_worker=False)
    runner = web.AppRunner(runtime.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield SlackSystem(runtime, api, f"http://127.0.0.1:{port}", http)
    await runner.cleanup()
    await runtime.close()
