"""Runs the real Teams stack (botbuilder behind our aiohttp server) against the fake Bot
Connector, on whichever database the test gives it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from adapters.runtime import build_runtime
from bot.clock import ManualClock
from bot.settings import Settings
from tests.fakes import FakeBotConnector
from tests.test_teams_e2e import ANA, TeamsSystem


async def start_teams(
    db_url: str, clock: ManualClock, connector: FakeBotConnector
) -> AsyncIterator[TeamsSystem]:
    """The running Teams system (as tests/test_teams_e2e.py's), with Ana as the admin."""
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=db_url,
        TEAMS_ENABLED=True,
        MICROSOFT_APP_ID="",
        ALLYBOT_ADMINS=ANA,
        _env_file=None,
    )
    runtime = await build_runtime(settings, clock=clock, run_worker=False)
    runner = web.AppRunner(runtime.app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    try:
        async with aiohttp.ClientSession() as http:
            yield TeamsSystem(runtime, connector, url, http)
    finally:
        await runner.cleanup()
        await runtime.close()
