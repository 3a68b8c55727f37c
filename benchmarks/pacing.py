"""Paced delivery: a DM campaign plus channel posts, through the real Delivery, Scheduler and
Slack port, against a local fake Web API that enforces Slack's per-channel limit.

Run by hand (not in CI):

    .venv/bin/python -m benchmarks.pacing                      # 10,000 DMs + 600 posts
    .venv/bin/python -m benchmarks.pacing --dms 1000 --posts 60  # scaled down (~20 s a run)

The fake (below) accepts chat.postMessage at 1 per second per channel with a burst of 3 (the
generic cell rate algorithm, with 50 ms of tolerance for loopback jitter), and answers anything
faster with HTTP 429, `{"ok": false, "error": "ratelimited"}` and a whole-second Retry-After,
as Slack does. A DM goes to the person's id, which is its own channel there.

The theoretical minimum is what the fake's limit allows: the busiest channel's posts, less its
burst, one second apart. Printed per run: elapsed time from the first claim to the last
accepted message against that minimum, messages lost (queued, never accepted) and duplicated
(accepted twice), the 429s, and the smallest gap the fake saw between two posts on a channel.
Runs: SQLite with one replica, then PostgreSQL (127.0.0.1:5432, when reachable) with one and
with two replicas (each its own engine, HTTP session and worker pool, on one database).
Everything is on loopback, in one process and event loop, so the bot's CPU is shared with the
fake's; figures are for comparison within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.port import SlackPort
from bot.clock import SystemClock
from bot.delivery import Delivery
from bot.ids import ConversationRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, ToConversation, ToUser, rich
from bot.scheduler import Scheduler
from store import Database
from store import jobs as job_store
from store import workspaces as ws_store
from tests.databases import (
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)
from tests.fakes.server import FakeServer

TOKEN = "xoxb-bench"
TEAM = "T0001"
WS = WorkspaceRef(Platform.SLACK, TEAM)


@dataclass
class Accepted:
    channel: str
    text: str
    at: float


@dataclass
class _Lane:
    tat: float = 0.0  # the GCRA's theoretical arrival time


class LimitedSlack(FakeServer[Accepted]):
    """chat.postMessage only, paced per channel like Slack; everything else answers ok."""

    def __init__(self, *, interval: float = 1.0, burst: int = 3, jitter: float = 0.05) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self.jitter = jitter
        self.limited = 0  # 429s answered
        self.expect = 0
        self.done = asyncio.Event()
        self.lanes: dict[str, _Lane] = {}
        self.app.router.add_post("/api/{method}", self._handle)

    @property
    def url(self) -> str:
        return f"{self.root_url}api/"

    async def _handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if request.match_info["method"] != "chat.postMessage":
            return web.json_response({"ok": True})
        body = await request.json()
        channel, text = str(body.get("channel")), str(body.get("text"))
        now = time.monotonic()
        lane = self.lanes.setdefault(channel, _Lane(tat=now))
        tolerance = self.interval * (self.burst - 1) + self.jitter
        if now < lane.tat - tolerance:
            self.limited += 1
            wait = max(1, math.ceil(lane.tat - tolerance - now))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        lane.tat = max(lane.tat, now) + self.interval
        self._record(Accepted(channel, text, now))
        if len(self.calls) >= self.expect:
            self.done.set()
        ts = f"{1700000000 + len(self.calls)}.000100"
        return web.json_response({"ok": True, "channel": channel, "ts": ts})


@dataclass
class Replica:
    db: Database
    http: aiohttp.ClientSession
    scheduler: Scheduler
    delivery: Delivery


async def _replica(db_url: str, api: LimitedSlack) -> Replica:
    clock = SystemClock()
    db = Database(db_url)
    http = aiohttp.ClientSession()
    # As adapters/slack/app.py builds the port's client: no retry handlers, the queue retries.
    client = AsyncWebClient(token=TOKEN, base_url=api.url, session=http, retry_handlers=[])
    ports = {Platform.SLACK: SlackPort(client)}
    scheduler = Scheduler(db, clock, platforms=ports)
    return Replica(db, http, scheduler, Delivery(db, clock, scheduler, ports))


def _campaign(dms: int, posts: int, channels: int) -> list[tuple[str, Outbound]]:
    """The DMs with the channel posts spread evenly among them (as they would be queued while
    a campaign runs)."""
    items: list[tuple[str, Outbound]] = [
        (
            f"dm:{i}",
            Outbound(
                target=ToUser(user=UserRef(WS, f"U{i}")), message=Message(text=rich(f"dm {i}"))
            ),
        )
        for i in range(dms)
    ]
    every = max(1, len(items) // max(1, posts))
    for j in range(posts):
        channel = f"C{j % channels}"
        post = Outbound(
            target=ToConversation(conversation=ConversationRef(WS, channel)),
            message=Message(text=rich(f"post {j}")),
            key=f"post:{j}",
        )
        items.insert(min(len(items), j * (every + 1)), (f"post:{j}", post))
    return items


async def run(
    db_url: str, *, dms: int, posts: int, channels: int, replicas: int, workers: int
) -> dict[str, float]:
    async with LimitedSlack() as api:
        bots = [await _replica(db_url, api) for _ in range(replicas)]
        first = bots[0]
        async with first.db.transaction() as session:
            ws_id = (
                await ws_store.ensure_workspace(session, "slack", TEAM, SystemClock().now())
            ).id
        items = _campaign(dms, posts, channels)
        for start in range(0, len(items), 500):
            async with first.db.transaction() as session:
                for key, item in items[start : start + 500]:
                    await first.delivery.send(session, WS, ws_id, key, item)
        api.expect = len(items)
        stop = asyncio.Event()
        began = time.monotonic()
        pools = [
            asyncio.create_task(bot.scheduler.run_forever(stop, workers=workers)) for bot in bots
        ]
        try:
            await asyncio.wait_for(api.done.wait(), timeout=max(120.0, posts / channels * 3))
        except TimeoutError:
            print(f"  timed out with {len(api.calls)} of {len(items)} accepted")
        stop.set()
        await asyncio.gather(*pools)
        async with first.db.transaction() as session:
            statuses = await job_store.count_by_status(session)
        for bot in bots:
            await bot.http.close()
            await bot.db.dispose()
    accepted = Counter((c.channel, c.text) for c in api.calls)
    queued = {(f"U{i}", f"dm {i}") for i in range(dms)} | {
        (f"C{j % channels}", f"post {j}") for j in range(posts)
    }
    per_channel = Counter(f"C{j % channels}" for j in range(posts))
    busiest = max(per_channel.values(), default=0)
    minimum = max(0, busiest - api.burst) * api.interval
    elapsed = (max(c.at for c in api.calls) - began) if api.calls else float("nan")
    dm_times = [c.at for c in api.calls if c.channel.startswith("U")]
    dms_done = (max(dm_times) - began) if dm_times else float("nan")
    return {
        "messages": len(items),
        "elapsed": elapsed,
        "minimum": minimum,
        "lost": len(queued - set(accepted)),
        "duplicated": sum(n - 1 for n in accepted.values() if n > 1),
        "limited": api.limited,
        "done_jobs": statuses.get("done", 0),
        "dms_done": dms_done,
        "dms_per_s": dms / dms_done if dms_done else float("nan"),
    }


def _report(label: str, f: dict[str, float]) -> None:
    ratio = f["elapsed"] / f["minimum"] if f["minimum"] else float("nan")
    print(
        f"{label:28s} {f['messages']:.0f} messages in {f['elapsed']:.2f} s; minimum "
        f"{f['minimum']:.0f} s -> {ratio:.3f}x; lost {f['lost']:.0f}, duplicated "
        f"{f['duplicated']:.0f}, 429s {f['limited']:.0f}; DMs all out after "
        f"{f['dms_done']:.1f} s ({f['dms_per_s']:.0f}/s); jobs done {f['done_jobs']:.0f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dms", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16, help="per replica")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--replicas", default="1,2", help="PostgreSQL runs")
    args = parser.parse_args()
    shape = dict(dms=args.dms, posts=args.posts, channels=args.channels, workers=args.workers)
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            url = await sqlite_database(Path(tmp))
            _report("sqlite, 1 replica", await run(url, replicas=1, **shape))
        if "postgresql" in backends:
            for replicas in (int(n) for n in args.replicas.split(",")):
                try:
                    url, name = await postgres_database()
                except BaseException as exc:  # pytest.skip raises BaseException subclasses
                    print(f"postgresql: skipped ({exc})")
                    break
                try:
                    figures = await run(url, replicas=replicas, **shape)
                    _report(f"postgresql, {replicas} replica(s)", figures)
                finally:
                    await drop_postgres_database(name)
            await drop_template()


if __name__ == "__main__":
    asyncio.run(main())
