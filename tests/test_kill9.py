"""kill -9 under load: `allybot serve` as a process, signed reactions arriving 20 at a time, the
process killed in the middle; after a restart every acknowledged event is applied exactly once."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp

from tests.fakes import FakeSlackApi, slack_signed_headers
from tests.serve_support import Process, free_port, reaction_event
from tests.slack_support import SECRET

EVENTS = 300
KILL_AFTER = 120  # acknowledgements


async def _start(tmp_path: Path, port: int, fake_slack: FakeSlackApi) -> asyncio.subprocess.Process:
    # The default SQLite file in tmp_path; a killed worker's events are taken over after 2 s.
    serve = await Process.start(
        tmp_path, fake_slack, port=port, LOG_LEVEL="WARNING", INBOX_LEASE_SECONDS="2"
    )
    return serve.proc


def _reaction(i: int) -> bytes:
    return reaction_event(f"EvKill{i}", giver=f"UG{i}", author="U2", ts=f"1700000000.{i:06d}")


async def test_kill_9_loses_no_acknowledged_event_and_applies_none_twice(
    tmp_path: Path, fake_slack: FakeSlackApi
) -> None:
    fake_slack.add_user("U2", "Bo")
    for i in range(EVENTS):
        fake_slack.add_user(f"UG{i}", f"Giver {i}")
    port = free_port()
    proc = await _start(tmp_path, port, fake_slack)
    acked: set[int] = set()
    killed = asyncio.Event()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(EVENTS):
        queue.put_nowait(i)

    async def sender(http: aiohttp.ClientSession) -> None:
        while not killed.is_set() and not queue.empty():
            i = queue.get_nowait()
            body = _reaction(i)
            headers = slack_signed_headers(SECRET, body, content_type="application/json")
            try:
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                ) as resp:
                    if resp.status == 200:
                        acked.add(i)
            except (TimeoutError, aiohttp.ClientError):
                continue  # not acknowledged: Slack would send it again
            if len(acked) >= KILL_AFTER and not killed.is_set():
                killed.set()
                proc.send_signal(signal.SIGKILL)

    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await asyncio.gather(*(sender(http) for _ in range(20)))
        await proc.wait()
        assert killed.is_set(), "the load ended before the kill"

        proc = await _start(tmp_path, port, fake_slack)  # the same database: it picks up
        db = tmp_path / "allybot.db"
        deadline = time.monotonic() + 60
        while True:
            with sqlite3.connect(db) as conn:
                waiting = conn.execute(
                    "SELECT count(*) FROM inbox WHERE status IN ('pending', 'running')"
                ).fetchone()[0]
            if waiting == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert waiting == 0, f"{waiting} events still waiting after the restart"
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT message_id, count(*) FROM kudos WHERE revoked_at IS NULL "
                "GROUP BY message_id"
            ).fetchall()
        per_message = {message: n for message, n in rows}
        applied = {int(message.split(".")[1]) for message in per_message}
        assert all(n == 1 for n in per_message.values()), "an event was applied twice"
        lost = acked - applied
        assert not lost, f"{len(lost)} acknowledged events were lost: {sorted(lost)[:10]}"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), timeout=15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
