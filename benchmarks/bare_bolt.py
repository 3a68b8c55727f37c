"""The floor for benchmarks/ingest.py: a bare slack-bolt AsyncApp whose listener does nothing,
behind aiohttp, acknowledging signed events exactly as bolt does. Not part of Allybot.

Run by benchmarks/ingest.py as `python -m benchmarks.bare_bolt PORT SIGNING_SECRET API_URL`
(bolt's single-team authorization calls auth.test once, on the local fake Web API).
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    port, secret, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = AsyncApp(
        signing_secret=secret,
        client=AsyncWebClient(token="xoxb-floor", base_url=api_url),
        process_before_response=True,
    )

    @app.event("reaction_added")
    async def nothing(body: dict[str, Any]) -> None:
        return None

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    server = web.Application()
    server.router.add_post("/slack/events", handle)
    server.router.add_get("/healthz", healthz)
    web.run_app(server, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
