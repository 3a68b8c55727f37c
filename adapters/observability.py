"""The door's observability: GET /metrics, and the middleware that times, counts and tags each
platform request (bot/metrics.py, bot/logcontext.py).

/metrics is off until METRICS_TOKEN is set: it then answers only requests with
`Authorization: Bearer <METRICS_TOKEN>` (401 otherwise), and without a token it answers 404
saying so. It is never open on the strength of where a request comes from: behind a reverse
proxy on the same host every request looks like loopback.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import logcontext, metrics
from bot.core import Allybot

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The routes the platforms call, and which platform each is.
PLATFORM_PATHS = {"/slack/events": "slack", "/api/messages": "teams"}
OFF = (
    "Metrics are off: set METRICS_TOKEN, then scrape /metrics with the header "
    "'Authorization: Bearer <METRICS_TOKEN>'.\n"
)


def metrics_route(core: Allybot) -> Handler:
    async def serve_metrics(request: web.Request) -> web.StreamResponse:
        token = core.services.settings.metrics_token
        if not token:
            return web.Response(status=404, text=OFF)
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return web.Response(
                status=401,
                text="Unauthorized: send 'Authorization: Bearer <METRICS_TOKEN>'.\n",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body = await metrics.exposition(core.services.db, core.services.clock, core.scheduler.kinds)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    return serve_metrics


def _request_id(request: web.Request) -> str:
    """A proxy's X-Request-Id when it is a plausible one, else a new id."""
    given = request.headers.get("X-Request-Id", "")
    if 0 < len(given) <= 64 and given.isascii() and given.isprintable() and " " not in given:
        return given
    return os.urandom(8).hex()  # as unique as uuid4's first 16 digits, at a third of the cost


@web.middleware
async def door_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Around each platform request: a log scope (request id, then the event id and workspace
    once known), the ack latency, and what became of the request."""
    platform = PLATFORM_PATHS.get(request.path)
    if platform is None or request.method != "POST":
        return await handler(request)
    started = time.perf_counter()
    status: int | None = 500
    with (
        logcontext.scope(request_id=_request_id(request), platform=platform),
        metrics.door(platform) as visit,
    ):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # e.g. 413 from a body over the size limit
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = None
            raise
        finally:
            metrics.answered(visit, status, time.perf_counter() - started)
