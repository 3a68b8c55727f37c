"""The click-counting redirect, through the real aiohttp app on loopback: a click on an
ambassador's link is counted for them and the item and redirected; an unknown or expired token
gets a plain 404; nothing about the clicker is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select

from adapters.server import build_app
from bot.core import Allybot
from bot.messages import plain_text
from bot.nudges.links import LINK_LIFETIME
from bot.settings import Settings
from store.models import NudgeLink
from tests.conversation import Chat
from tests.memory_port import MemoryPort
from tests.test_nudges_core import nudge_cards, setup


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        DATA_DIR=tmp_path,
        ALLYBOT_ADMINS="ana",
        ALLYBOT_PUBLIC_URL="https://ally.example.com/",
        _env_file=None,
    )


@pytest_asyncio.fixture
async def server(core: Allybot) -> AsyncIterator[str]:
    runner = web.AppRunner(build_app(core, run_worker=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_click_is_counted_and_redirected(
    chat: Chat, port: MemoryPort, core: Allybot, server: str
) -> None:
    await setup(chat, "dee")
    await chat.say("cy", 'content add https://example.com/post "A post" "Worth a read"')
    await chat.later(seconds=1)
    (dm,) = nudge_cards(port, "dee")
    assert dm.card is not None
    body = "".join(plain_text(s.text) for s in dm.card.sections)
    async with core.services.db.transaction() as session:
        link = (await session.scalars(select(NudgeLink))).one()
    tracked = f"https://ally.example.com/r/{link.token}"
    assert len(link.token) >= 22 and f"A post ({tracked})" in body
    assert "url=https%3A%2F%2Fally.example.com%2Fr%2F" in body  # shares the tracked URL

    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.get(f"{server}/r/{link.token}", allow_redirects=False) as resp:
                assert resp.status == 302
                assert resp.headers["Location"] == "https://example.com/post"
        async with http.get(f"{server}/r/not-a-token", allow_redirects=False) as resp:
            assert resp.status == 404
            assert "Link not found" in await resp.text()
        async with http.get(f"{server}/r/{'x' * 300}", allow_redirects=False) as resp:
            assert resp.status == 404

        report = await chat.say("cy", "content report C-1")
        assert "targeted 1, delivered 1, shared 0, clicks 2, CTR 200%" in report
        assert "• Dee: targeted 1, delivered 1, shared 0, clicks 2" in await chat.say(
            "cy", "content report ambassadors"
        )
        chat.clock.advance(LINK_LIFETIME + timedelta(seconds=1))
        async with http.get(f"{server}/r/{link.token}", allow_redirects=False) as resp:
            assert resp.status == 404  # expired
    columns = set(NudgeLink.__table__.columns.keys())
    assert columns == {
        "token",
        "workspace_id",
        "nudge_id",
        "url",
        "clicks",
        "last_click_at",
        "created_at",
        "expires_at",
    }  # no address, no user agent
