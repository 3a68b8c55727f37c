"""The one aiohttp application: Slack at /slack/events, Teams at /api/messages, /healthz,
/readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from adapters import redirects
from adapters.credentials import CREDENTIALS
from adapters.observability import door_middleware, metrics_route
from adapters.workers import run_workers
from bot.bootstrap import schema_head, schema_revision
from bot.core import Allybot

log = logging.getLogger(__name__)

RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORE_KEY = web.AppKey("core", Allybot)


def build_app(
    core: Allybot,
    *,
    slack: RouteHandler | None = None,
    teams: RouteHandler | None = None,
    run_worker: bool = True,
) -> web.Application:
    # Slack and Bot Framework payloads are small; a cap stops memory abuse before parsing.
    # The middleware times, counts and tags the platforms' requests (adapters/observability.py).
    app = web.Application(client_max_size=1024 * 1024, middlewares=[door_middleware])
    app[CORE_KEY] = core
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", metrics_route(core))
    app.router.add_get("/r/{token}", redirects.handler(core))  # links in nudges
    if slack is not None:
        app.router.add_post("/slack/events", slack)
    if teams is not None:
        app.router.add_post("/api/messages", teams)
    if run_worker:
        app.cleanup_ctx.append(_worker)
    return app


async def _healthz(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    try:
        await core.services.db.ping()
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "platforms": sorted(core.ports)})


async def _readyz(request: web.Request) -> web.Response:
    """Ready to take traffic: the database answers and its schema is this code's newest
    (a replica started before `allybot db upgrade` finished is alive but not ready), and no
    platform rejected the bot's credentials when they were checked at start (one that could
    not be asked is shown as unverified, and does not fail readiness: adapters/credentials.py).
    """
    core = request.app[CORE_KEY]
    try:
        await core.services.db.ping()
        revision = await schema_revision(core.services.settings)
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return web.json_response({"status": "not ready", "database": "unreachable"}, status=503)
    head = schema_head()
    if revision != head:
        return web.json_response(
            {"status": "not ready", "schema": revision, "expected": head}, status=503
        )
    credentials = request.app.get(CREDENTIALS)
    if credentials is None:  # an app built without a runtime (tests of the door alone)
        return web.json_response({"status": "ready", "schema": revision})
    body = {"schema": revision, "platforms": credentials.as_json()}
    if credentials.rejected:
        reason = "; ".join(c.reason for c in credentials.rejected)
        return web.json_response({"status": "not ready", "reason": reason, **body}, status=503)
    return web.json_response({"status": "ready", **body})


async def _worker(app: web.Application) -> AsyncIterator[None]:
    """Runs the inbox's workers (events acknowledged at the door) and the jobs worker
    (deliveries, reminders) beside the server (`serve --worker inline`)."""
    core = app[CORE_KEY]
    stop = asyncio.Event()
    grace = core.services.settings.shutdown_grace
    workers = asyncio.create_task(run_workers(core, stop, grace=grace), name="workers")
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await workers
