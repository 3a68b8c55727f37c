"""Ingest, side by side in one run: `allybot serve` against a bare slack-bolt app (the floor).

Run by hand (not in CI):
    .venv/bin/python -m benchmarks.ingest [--backend sqlite|postgresql|both] [--events 2000]
        [--rounds 3] [--concurrency 20] [--warmup 500]

The same load generator sends unique signed `reaction_added` events (unique givers, recipients,
messages and event ids, so deduplication and allowances cut no work) to both servers, each a
process of its own on loopback. Per round, alternately floor and Allybot:

- closed loop, `--concurrency` requests in flight: acks/s, ack p50 and p99;
- Allybot only: every acknowledged event is in the inbox (durable), and the sustained
  processing rate (events applied per second until the inbox is empty, DMs included), with the
  CPU per event of the door (`allybot serve`) and of its worker processes over that phase;
- Allybot only, open loop at 200 events/s for 5 s: ack p99;
- Allybot only, open loop at 100 events/s for 10 s: end-to-end p99, from sending the event to
  the recipient's DM reaching the fake Slack Web API.

Allybot's queue is drained between rounds so it does not slow the next floor round. Figures are
medians over the rounds, the ratio the median of each round's (floor and Allybot back to back),
after an unmeasured warm-up of `--warmup` events to each. The fake Web API and the load
generator share this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from tests.databases import drop_postgres_database, drop_template, postgres_database
from tests.fakes import slack_signed_headers

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TEAM = "T0BENCH"
_ids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----- a minimal fake Slack Web API that timestamps DMs ------------------------------------


@dataclass
class FakeWebApi:
    dms: dict[str, float] = field(default_factory=dict)  # channel (user id) -> arrival
    calls: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._method)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _method(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        if method == "users.info":
            uid = str(args.get("user", "U?"))
            return web.json_response(
                {
                    "ok": True,
                    "user": {
                        "id": uid,
                        "name": uid.lower(),
                        "is_bot": False,
                        "tz": "Europe/Paris",
                        "profile": {"display_name": f"Person {uid}", "real_name": uid},
                    },
                }
            )
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "url": "https://bench.slack.com/", "team_id": TEAM, "user_id": "UB"}
            )
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            self.dms.setdefault(channel, time.perf_counter())
            return web.json_response({"ok": True, "channel": channel, "ts": f"{next(_ids)}.0001"})
        return web.json_response({"ok": True})


# ----- servers ----------------------------------------------------------------------------


async def _process(args: list[str], env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            await asyncio.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{args} did not come up")


async def start_allybot(db_url: str, data_dir: Path, api: FakeWebApi) -> tuple[Any, int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_DIR=str(data_dir),
        DATABASE_URL=db_url,
        PORT=str(port),
        HOST="127.0.0.1",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        LOG_LEVEL="WARNING",
    )
    return await _process(["-m", "adapters.cli", "serve"], env, port), port


async def start_floor(api: FakeWebApi) -> tuple[Any, int]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["-m", "benchmarks.bare_bolt", str(port), SECRET, api.url]
    return await _process(args, env, port), port


async def stop(proc: Any) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# ----- CPU of the server's processes ---------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """Seconds of CPU a process used so far (user + system), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_split(pid: int) -> tuple[float, float]:
    """(the door's CPU seconds, its worker processes'), so far."""
    return _cpu_of(pid), sum(_cpu_of(c) for c in _children(pid))


# ----- load -------------------------------------------------------------------------------


def reaction_body(n: int) -> bytes:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"EvBench{n}",
            "event_time": int(time.time()),
            "event": {
                "type": "reaction_added",
                "user": f"UG{n}",
                "reaction": "clap",
                "item": {"type": "message", "channel": "C1", "ts": f"1700000000.{n:07d}"},
                "item_user": f"UR{n}",
                "event_ts": f"1700000001.{n:07d}",
            },
        }
    ).encode()


async def send(http: aiohttp.ClientSession, url: str, n: int) -> float | None:
    body = reaction_body(n)
    headers = slack_signed_headers(SECRET, body, content_type="application/json")
    start = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as resp:
        await resp.read()
        return time.perf_counter() - start if resp.status == 200 else None


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def closed_loop(url: str, numbers: list[int], concurrency: int) -> dict[str, float]:
    queue = list(reversed(numbers))
    latencies: list[float] = []
    failed = 0

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal failed
        while queue:
            took = await send(http, url, queue.pop())
            if took is None:
                failed += 1
            else:
                latencies.append(took)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {
        "acks_per_s": len(latencies) / elapsed,
        "p50_ms": p(latencies, 0.5) * 1000,
        "p99_ms": p(latencies, 0.99) * 1000,
        "failed": failed,
        "elapsed": elapsed,
    }


async def open_loop(
    url: str, numbers: list[int], rate: float
) -> tuple[list[float], dict[int, float]]:
    """Sends at `rate` per second whatever the answers; returns ack latencies, send times."""
    sent: dict[int, float] = {}
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        began = time.perf_counter()
        tasks = []

        async def one(n: int) -> None:
            sent[n] = time.perf_counter()
            took = await send(http, url, n)
            if took is not None:
                latencies.append(took)

        for i, n in enumerate(numbers):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return latencies, sent


# ----- the store --------------------------------------------------------------------------


class Store:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    async def _fetch(self, sql: str) -> int:
        if self.db_url.startswith("sqlite"):
            import sqlite3

            path = self.db_url.split("///", 1)[1]
            with sqlite3.connect(path, timeout=30) as conn:
                return int(conn.execute(sql).fetchone()[0])
        conn = await asyncpg.connect(self.db_url.replace("+asyncpg", ""))
        try:
            return int(await conn.fetchval(sql))
        finally:
            await conn.close()

    async def inbox_rows(self, numbers: list[int]) -> int:
        low, high = min(numbers), max(numbers)
        return await self._fetch(
            "SELECT count(*) FROM inbox WHERE event_id IN ("
            + ",".join(f"'EvBench{n}'" for n in range(low, high + 1))
            + ")"
        )

    async def waiting(self) -> int:
        return await self._fetch(
            "SELECT count(*) FROM inbox WHERE status IN ('pending', 'running')"
        ) + await self._fetch(
            "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running') AND kind = 'deliver'"
        )

    async def drain(self, limit: float = 600) -> float:
        """Waits until Allybot applied every event and sent every DM; returns when."""
        began = time.perf_counter()
        while await self.waiting():
            if time.perf_counter() - began > limit:
                raise RuntimeError("Allybot did not drain its queues")
            await asyncio.sleep(0.05)
        return time.perf_counter()


# ----- the run ----------------------------------------------------------------------------


async def run_backend(label: str, db_url: str, args: argparse.Namespace) -> None:
    api = FakeWebApi()
    await api.start()
    data = Path(tempfile.mkdtemp(prefix="allybot-ingest-"))
    ally, ally_port = await start_allybot(db_url, data, api)
    floor, floor_port = await start_floor(api)
    store = Store(db_url)
    ally_url = f"http://127.0.0.1:{ally_port}/slack/events"
    floor_url = f"http://127.0.0.1:{floor_port}/slack/events"
    counter = itertools.count(1)
    rounds: list[dict[str, float]] = []
    try:
        # Not measured: both servers' first requests (and the load generator's) run slower, and
        # allybot's worker processes are still starting while the first floor round runs.
        for url in (floor_url, ally_url):
            await closed_loop(url, [next(counter) for _ in range(args.warmup)], args.concurrency)
        await store.drain()
        for _ in range(args.rounds):
            figures: dict[str, float] = {}
            numbers = [next(counter) for _ in range(args.events)]
            f = await closed_loop(floor_url, numbers, args.concurrency)
            figures.update({f"floor_{k}": v for k, v in f.items()})

            numbers = [next(counter) for _ in range(args.events)]
            door0, work0 = cpu_split(ally.pid)
            began = time.perf_counter()
            a = await closed_loop(ally_url, numbers, args.concurrency)
            figures.update({f"ally_{k}": v for k, v in a.items()})
            figures["ratio"] = a["acks_per_s"] / f["acks_per_s"]  # a pair run back to back
            figures["durable"] = await store.inbox_rows(numbers) / args.events
            drained = await store.drain()
            figures["applied_per_s"] = args.events / (drained - began)
            door1, work1 = cpu_split(ally.pid)
            figures["door_cpu_ms"] = (door1 - door0) / args.events * 1000
            figures["worker_cpu_ms"] = (work1 - work0) / args.events * 1000

            numbers = [next(counter) for _ in range(1000)]
            latencies, _ = await open_loop(ally_url, numbers, 200)
            figures["p99_at_200_ms"] = p(latencies, 0.99) * 1000
            await store.drain()

            numbers = [next(counter) for _ in range(1000)]
            _, sent = await open_loop(ally_url, numbers, 100)
            await store.drain()
            ends = [api.dms[f"UR{n}"] - sent[n] for n in numbers if f"UR{n}" in api.dms]
            figures["e2e_p99_s"] = p(ends, 0.99)
            figures["e2e_missing"] = len(numbers) - len(ends)
            rounds.append(figures)
            print(
                f"  round: floor {f['acks_per_s']:.0f} acks/s (p50 {f['p50_ms']:.1f} ms, "
                f"p99 {f['p99_ms']:.1f} ms); allybot {a['acks_per_s']:.0f} acks/s "
                f"(p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms), "
                f"ratio {figures['ratio']:.2f}, "
                f"durable {figures['durable']:.0%}, applied {figures['applied_per_s']:.0f}/s, "
                f"ack p99 at 200/s {figures['p99_at_200_ms']:.1f} ms, "
                f"e2e p99 at 100/s {figures['e2e_p99_s']:.2f} s; CPU per event: door "
                f"{figures['door_cpu_ms']:.2f} ms, workers {figures['worker_cpu_ms']:.2f} ms",
                flush=True,
            )
    finally:
        await stop(ally)
        await stop(floor)
        await api.stop()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(
        f"{label}: median of {len(rounds)} rounds, {args.events} events, "
        f"{args.concurrency} in flight\n"
        f"  floor (bare bolt): {med('floor_acks_per_s'):.0f} acks/s, "
        f"p50 {med('floor_p50_ms'):.1f} ms, p99 {med('floor_p99_ms'):.1f} ms\n"
        f"  allybot:           {med('ally_acks_per_s'):.0f} acks/s, "
        f"p50 {med('ally_p50_ms'):.1f} ms, p99 {med('ally_p99_ms'):.1f} ms; "
        f"ratio {med('ratio'):.2f} (median of the rounds' ratios); "
        f"durable {med('durable'):.0%}; failed {med('ally_failed'):.0f}\n"
        f"  processing: {med('applied_per_s'):.0f} events applied/s (DMs delivered too)\n"
        f"  CPU per event: door {med('door_cpu_ms'):.2f} ms, worker processes "
        f"{med('worker_cpu_ms'):.2f} ms (acknowledged, applied and delivered)\n"
        f"  ack p99 at 200 events/s: {med('p99_at_200_ms'):.1f} ms\n"
        f"  end to end p99 at 100 events/s: {med('e2e_p99_s'):.2f} s "
        f"({med('e2e_missing'):.0f} DMs missing)",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=500, help="events per server, unmeasured")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="allybot-ingest-db-"))
        await run_backend("sqlite", f"sqlite+aiosqlite:///{folder / 'allybot.db'}", args)
    if args.backend in ("postgresql", "both"):
        url, name = await postgres_database()
        try:
            await run_backend("postgresql", url, args)
        finally:
            await drop_postgres_database(name)
            await drop_template()


if __name__ == "__main__":
    asyncio.run(main())
