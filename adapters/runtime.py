"""Builds the running system from settings; shared by `allybot serve` and the tests."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.server import build_app
from bot.bootstrap import Database, bootstrap, open_database
from bot.clock import Clock
from bot.core import Allybot
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    core: Allybot
    app: web.Application
    socket_mode: Any = None  # slack_bolt AsyncSocketModeHandler when SLACK_APP_TOKEN is set
    closers: list[Any] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.core.services.db

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()
        await self.db.dispose()


async def build_runtime(
    settings: Settings, *, migrate: bool = True, clock: Clock | None = None, run_worker: bool = True
) -> Runtime:
    db = await open_database(settings, migrate=migrate)
    core = bootstrap(settings, db, {}, clock)
    closers: list[Any] = []
    slack_route = teams_route = None
    socket_mode = None
    if settings.slack_configured:
        from adapters.slack import SlackAdapter

        slack = SlackAdapter(core, settings)
        core.add_port(slack.port)
        closers.append(slack.close)
        if settings.slack_app_token:
            socket_mode = slack.socket_mode_handler()
            closers.append(socket_mode.close_async)
        else:
            slack_route = slack.handle
    if settings.teams_configured:
        from adapters.teams import TeamsAdapter

        teams = TeamsAdapter(core, settings)
        core.add_port(teams.port)
        teams_route = teams.handle
    app = build_app(core, slack=slack_route, teams=teams_route, run_worker=run_worker)
    return Runtime(core=core, app=app, socket_mode=socket_mode, closers=closers)
