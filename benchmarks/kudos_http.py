"""Kudos through the real Slack path: signed /kudos requests -> bolt -> core -> store -> ack,
then the jobs worker delivering the DMs and posts to a local fake Web API.

Run by hand (not in CI):  .venv/bin/python -m benchmarks.kudos_http [--requests 400]
Prints median and p95 ack latency, acks per second, and deliveries per second, on SQLite and,
when reachable, PostgreSQL (127.0.0.1:5432, database `test`). The HTTP client and the fake Web
API share the bot's process and event loop, so the figures are an upper bound on cost per
request and are for comparison within one run; the machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from adapters.runtime import build_runtime
from bot.clock import SystemClock
from tests.databases import (
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)
from tests.fakes import FakeSlackApi, form_body, slack_signed_headers
from tests.slack_support import SECRET, TEAM, slack_settings


async def run(db_url: str, requests: int, concurrency: int) -> dict[str, float]:
    async with FakeSlackApi() as api:
        for i in range(requests + 1):
            api.add_user(f"U{i}", f"Person {i}", tz="Europe/Paris")
        runtime = await build_runtime(
            slack_settings(db_url, api), clock=SystemClock(), run_worker=False
        )
        runner = web.AppRunner(runtime.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/slack/events"
        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(1, requests + 1):
            queue.put_nowait(i)

        async def client(http: aiohttp.ClientSession) -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = form_body(
                    {
                        "team_id": TEAM,
                        "channel_id": "C1",
                        "user_id": f"U{i}",
                        "command": "/kudos",
                        "text": f"<@U{i - 1}> thanks for #{i}",
                        "trigger_id": f"bench-{i}",
                    }
                )
                headers = slack_signed_headers(
                    SECRET, body, content_type="application/x-www-form-urlencoded"
                )
                start = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
                    assert "Kudos sent" in (await resp.json())["text"]
                latencies.append(time.perf_counter() - start)

        async with aiohttp.ClientSession() as http:
            began = time.perf_counter()
            await asyncio.gather(*(client(http) for _ in range(concurrency)))
            acked = time.perf_counter() - began
        began = time.perf_counter()
        delivered = await runtime.core.run_due()
        drained = time.perf_counter() - began
        await runner.cleanup()
        await runtime.close()
    latencies.sort()
    return {
        "ack_p50_ms": statistics.median(latencies) * 1000,
        "ack_p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "acks_per_s": requests / acked,
        "deliveries": delivered,
        "deliveries_per_s": delivered / drained,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends: list[tuple[str, str, str | None]] = [
            ("sqlite", await sqlite_database(Path(tmp)), None)
        ]
        try:
            url, name = await postgres_database()
            backends.append(("postgresql", url, name))
        except BaseException as exc:  # pytest.skip raises BaseException subclasses
            print(f"postgresql: skipped ({exc})")
        for label, url, name in backends:
            figures = await run(url, args.requests, args.concurrency)
            print(
                f"{label:10s} {args.requests} /kudos, {args.concurrency} at a time: "
                f"ack p50 {figures['ack_p50_ms']:.1f} ms, p95 {figures['ack_p95_ms']:.1f} ms, "
                f"{figures['acks_per_s']:.0f} acks/s; {figures['deliveries']:.0f} deliveries "
                f"at {figures['deliveries_per_s']:.0f}/s"
            )
            if name:
                await drop_postgres_database(name)
        await drop_template()


if __name__ == "__main__":
    asyncio.run(main())
