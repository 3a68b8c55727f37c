"""`GET /r/TOKEN`: the click-counting redirect behind the links in nudges (bot/nudges/links.py).

Counts the click through the core and answers 302 to the item's URL; an unknown or expired
token gets a plain 404 page. Nothing about the request (address, user agent, referrer) is read
or stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.core import Allybot
from bot.nudges import links

NOT_FOUND = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Link not found</title></head>"
    "<body><h1>Link not found</h1><p>This link is unknown or has expired.</p></body></html>"
)


def handler(core: Allybot) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def redirect(request: web.Request) -> web.StreamResponse:
        url = await links.follow(core.services.db, core.services.clock, request.match_info["token"])
        if url is None:
            return web.Response(status=404, text=NOT_FOUND, content_type="text/html")
        # No caching: every click reaches us, and is counted.
        raise web.HTTPFound(
            url, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        )

    return redirect
