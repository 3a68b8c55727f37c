"""A platform that keeps rejecting sends (a revoked token, a missing scope) is told to the
admins and the ops channel once per workspace, reason and hour, not once per message; each
failed message is given up at once with the platform's reason, never retried.

The real system: bolt and botbuilder behind the aiohttp server on loopback, the fake Slack Web
API and the fake Bot Connector answering the errors, the core and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.delivery import KIND as DELIVER
from bot.settings import Settings
from bot.workspace import PLATFORM_ALERT
from store.models import Job
from tests.fakes import FakeBotConnector, FakeSlackApi
from tests.helpers import deliver_all
from tests.slack_support import SECRET, TEAM, SlackSystem
from tests.test_teams_e2e import ANA, BO, TENANT, TeamsSystem

OPS = "COPS"
MISSING_SCOPE = {"needed": "chat:write", "provided": "commands,users:read"}
ALERT_LINE = "refuses Allybot's sends"


@dataclass
class System:
    runtime: Runtime
    slack: SlackSystem | None
    teams: TeamsSystem | None

    async def deliver(self) -> None:
        await deliver_all(self.runtime.core)

    async def jobs(self, kind: str) -> list[Job]:
        async with self.runtime.db.transaction() as session:
            return list((await session.scalars(select(Job).where(Job.kind == kind))).all())


@contextlib.asynccontextmanager
async def started(
    db_url: str,
    clock: ManualClock,
    *,
    slack: FakeSlackApi | None = None,
    teams: FakeBotConnector | None = None,
    **extra: Any,
) -> AsyncIterator[System]:
    """The system serving Slack (HTTP mode) and/or Teams (authentication off) on loopback."""
    config: dict[str, Any] = {
        "DATABASE_URL": db_url,
        "ALLYBOT_ADMINS": f"U1,{ANA}",
        "KUDOS_DAILY_ALLOWANCE": 100,
        **extra,
    }
    if slack is not None:
        slack.add_user("U1", "Ana", real_name="Ana Lopez")
        slack.add_user("U2", "Bo", real_name="Bo Chen")
        config.update(
            SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.url
        )
    if teams is not None:
        config.update(TEAMS_ENABLED=True)
    settings = Settings(_env_file=None, **config)  # type: ignore[call-arg]
    runtime = await build_runtime(settings, clock=clock, run_worker=False)
    runner = web.AppRunner(runtime.app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            yield System(
                runtime,
                SlackSystem(runtime, slack, url, http) if slack is not None else None,
                TeamsSystem(runtime, teams, f"{url}/api/messages", http)
                if teams is not None
                else None,
            )
    finally:
        await runner.cleanup()
        await runtime.close()


async def thank(slack: SlackSystem, n: int) -> None:
    """`n` kudos from Ana to Bo in #C1: each queues a DM to Bo and a post in the channel."""
    for i in range(n):
        ack = await slack.command(f"kudos <@U2> thanks for fix {i} {time.monotonic_ns()}")
        assert "Kudos sent" in ack["text"]


def alerts(api: FakeSlackApi, channel: str) -> list[dict[str, Any]]:
    """Every attempt to post an alert to `channel`, accepted or not (the fake API's log)."""
    return [
        c.args
        for c in api.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and "Allybot's" in str(c.args.get("text"))
    ]


def alert_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno == logging.ERROR and ALERT_LINE in r.getMessage()
    ]


async def test_a_missing_scope_tells_the_admins_once_an_hour(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake_slack.fail_next("chat.postMessage", "missing_scope", times=10_000, extra=MISSING_SCOPE)
    async with started(
        db_url, clock, slack=fake_slack, OPS_CHANNEL=f"slack:{TEAM}:{OPS}"
    ) as system:
        assert system.slack is not None
        await thank(system.slack, 3)  # six sends, all refused
        await system.deliver()
        (dm,) = alerts(fake_slack, "U1")  # one alert to the admin, not one per message
        (ops,) = alerts(fake_slack, OPS)  # and one to the ops channel
        for text in (dm["text"], ops["text"]):
            assert "Slack refuses some of Allybot's messages in Slack workspace T0001" in text
            assert "Slack said missing_scope" in text and "(needs chat:write)" in text
            assert "At most one notice an hour" in text
        assert len(alert_lines(caplog)) == 1
        # Every refused message was given up at once with the platform's reason.
        sends = await system.jobs(DELIVER)  # the messages, and the alert's DM and post
        assert len(sends) >= 8
        assert {j.status for j in sends} == {"failed"} and {j.attempts for j in sends} == {1}
        assert all("Slack said missing_scope" in (j.last_error or "") for j in sends)
        assert not any("gave up on" in str(c.args.get("text")) for c in fake_slack.calls)

        await thank(system.slack, 2)  # the same hour: failures, and no second alert
        await system.deliver()
        assert len(alerts(fake_slack, "U1")) == 1 and len(alerts(fake_slack, OPS)) == 1
        assert len(alert_lines(caplog)) == 1

        clock.advance(timedelta(hours=1))  # a new hour, still refused: told again, once
        await thank(system.slack, 2)
        await system.deliver()
        assert len(alerts(fake_slack, "U1")) == 2 and len(alerts(fake_slack, OPS)) == 2
        assert len(alert_lines(caplog)) == 2
        assert len(await system.jobs(PLATFORM_ALERT)) == 2


async def test_a_revoked_token_reaches_an_ops_channel_on_teams(
    sqlite_url: str,
    fake_slack: FakeSlackApi,
    fake_connector: FakeBotConnector,
    clock: ManualClock,
) -> None:
    """Slack refuses every send, DMs to its admins included: the ops channel on Teams hears."""
    ops_channel = "19:ops@thread.tacv2"
    async with started(
        sqlite_url,
        clock,
        slack=fake_slack,
        teams=fake_connector,
        OPS_CHANNEL=f"teams:{TENANT}:{ops_channel}",
    ) as system:
        assert system.slack is not None and system.teams is not None
        await system.teams.say("help")  # the tenant's service URL is known from here on
        fake_slack.fail_next("chat.postMessage", "token_revoked", times=10_000)
        await thank(system.slack, 2)
        await system.deliver()
        assert all(not c.ok for c in fake_slack.calls_to("chat.postMessage"))
        assert len(alerts(fake_slack, "U1")) == 1  # tried once, refused like the rest
        (post,) = system.teams.posts_in(ops_channel)
        assert "Slack refuses Allybot's credentials in Slack workspace T0001" in post["text"]
        assert "token\\_revoked" in post["text"]  # Teams markdown, underscore escaped
        sends = await system.jobs(DELIVER)
        slack_sends = [j for j in sends if j.platform == "slack"]
        assert {j.status for j in slack_sends} == {"failed"}
        assert {j.attempts for j in slack_sends} == {1}


async def test_a_connector_refusing_the_bot_tells_the_admins_once(
    sqlite_url: str,
    fake_connector: FakeBotConnector,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Teams: the Bot Connector answers 401 to every proactive send."""
    caplog.set_level(logging.INFO)
    async with started(sqlite_url, clock, teams=fake_connector) as system:
        teams = system.teams
        assert teams is not None
        await teams.say("help")  # Ana's chat is known: the admin alert goes there
        fake_connector.fail_next(401, times=10_000, kinds=("send", "create_conversation"))
        for i in range(3):
            reply = await teams.say(f"kudos <at>Bo</at> thanks {i}", mentions=(BO,))
            assert "Kudos sent" in reply["text"]  # the turn's own reply still goes
        await system.deliver()
        alerts = [
            c
            for c in fake_connector.calls_of("send")
            if "refuses Allybot's credentials" in str(c.text)
        ]
        assert len(alerts) == 1 and "HTTP 401" in str(alerts[0].text)
        assert len(alert_lines(caplog)) == 1
        sends = [j for j in await system.jobs(DELIVER) if j.platform == "teams"]
        assert sends and {j.status for j in sends} == {"failed"}
        assert {j.attempts for j in sends} == {1}
        assert all("HTTP 401" in (j.last_error or "") for j in sends)


async def test_the_hour_is_kept_across_replicas(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The throttle is the alert job's key in the store, not a replica's memory: a second
    replica meeting the same refusals in the same hour queues nothing, logs nothing."""
    caplog.set_level(logging.INFO)
    fake_slack.fail_next("chat.postMessage", "invalid_auth", times=10_000)
    async with (
        started(db_url, clock, slack=fake_slack) as one,
        started(db_url, clock, slack=fake_slack) as two,
    ):
        assert one.slack is not None
        await thank(one.slack, 2)
        await one.deliver()
        assert len(alerts(fake_slack, "U1")) == 1 and len(alert_lines(caplog)) == 1
        await thank(one.slack, 2)
        await two.deliver()  # the other replica runs these sends
        assert {j.status for j in await two.jobs(DELIVER)} == {"failed"}
        # Both at once, too.
        await thank(one.slack, 4)
        await asyncio.gather(one.runtime.core.run_due(), two.runtime.core.run_due())
        await one.deliver()
        assert {j.status for j in await one.jobs(DELIVER)} == {"failed"}
        assert len(alerts(fake_slack, "U1")) == 1 and len(alert_lines(caplog)) == 1
        assert len(await one.jobs(PLATFORM_ALERT)) == 1


def test_ops_channel_must_name_platform_workspace_and_channel() -> None:
    for good in ("slack:T0123:C0456", "teams:tenant-1:19:ops@thread.tacv2"):
        assert Settings(OPS_CHANNEL=good, _env_file=None).ops_channel == good  # type: ignore[call-arg]
    for bad in ("C0456", "slack:C0456", "irc:T1:C1"):
        with pytest.raises(ValueError, match="PLATFORM:WORKSPACE:CHANNEL"):
            Settings(OPS_CHANNEL=bad, _env_file=None)  # type: ignore[call-arg]
