"""SIGTERM: `allybot serve` stops taking requests, lets those in flight finish (bounded), lets its
workers finish or release what they run, and exits 0; nothing acknowledged is lost, nothing is
left claimed. `allybot serve` and `allybot worker` run as real processes, on SQLite and
PostgreSQL, against the fake Slack Web API; the database is read directly."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import WSCloseCode

from adapters.runtime import WORKER_STOP_MARGIN
from bot.scheduler import DEFAULT_WORKERS as JOB_WORKERS
from tests.fakes import FakeSocketMode
from tests.serve_support import (
    FORM,
    Process,
    SlackApi,
    command_form,
    post,
    query,
    reaction_event,
    scalar,
    wait_until,
)

EVENTS = 300
SIGTERM_AFTER = 100  # acknowledgements
GRACE = 5.0
# Requests in flight get the grace, the workers get it again, plus the margin for releasing
# and closing; the rest is the process starting to stop and the interpreter exiting.
BOUND = 2 * GRACE + WORKER_STOP_MARGIN


def _people(slack: SlackApi, prefix: str, count: int) -> None:
    for i in range(count):
        slack.add_user(f"UG{prefix}{i}", f"Giver {prefix}{i}")
        slack.add_user(f"UA{prefix}{i}", f"Author {prefix}{i}")


def _reaction(prefix: str, i: int) -> bytes:
    return reaction_event(
        f"Ev{prefix}{i}", giver=f"UG{prefix}{i}", author=f"UA{prefix}{i}", ts=f"17000.{i:06d}"
    )


async def _claimed(db_url: str) -> tuple[int, int]:
    """Inbox rows and jobs still claimed by someone (status running)."""
    inbox = await scalar(db_url, "SELECT count(*) FROM inbox WHERE status = 'running'")
    jobs = await scalar(db_url, "SELECT count(*) FROM jobs WHERE status = 'running'")
    return int(inbox), int(jobs)


async def _settled(db_url: str) -> bool:
    waiting = await scalar(
        db_url, "SELECT count(*) FROM inbox WHERE status IN ('pending', 'running')"
    )
    unfinished = await scalar(
        db_url, "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')"
    )
    return int(waiting) == 0 and int(unfinished) == 0


async def _kudos_per_message(db_url: str) -> dict[str, int]:
    rows = await query(
        db_url,
        "SELECT message_id, count(*) FROM kudos WHERE revoked_at IS NULL GROUP BY message_id",
    )
    return {str(message): int(n) for message, n in rows}


async def test_sigterm_under_load_loses_nothing_and_exits_0(tmp_path: Path, db_url: str) -> None:
    async with SlackApi() as slack:
        _people(slack, "L", EVENTS)
        door = await Process.start(tmp_path, slack, db_url=db_url, SHUTDOWN_GRACE=str(GRACE))
        outcome: dict[int, int | str] = {}
        queue = list(range(EVENTS))
        termed_at: list[float] = []

        async def sender(http: aiohttp.ClientSession) -> None:
            while queue:
                i = queue.pop(0)
                status, _ = await post(http, door.url, _reaction("L", i))
                outcome[i] = status
                acked = sum(1 for s in outcome.values() if s == 200)
                if acked >= SIGTERM_AFTER and not termed_at:
                    termed_at.append(time.monotonic())
                    door.signal()  # in the middle of the load: 20 requests are in flight

        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
                await asyncio.gather(*(sender(http) for _ in range(20)))
                assert termed_at, "the load ended before the SIGTERM"
                code = await door.wait(BOUND + 10)
                took = time.monotonic() - termed_at[0]
                # Once it is gone, nothing is taken: refused, never acknowledged and lost.
                late, _ = await post(http, door.url, _reaction("L", EVENTS))
        finally:
            await door.stop()
        assert code == 0, door.tail()
        assert took < BOUND, f"took {took:.1f}s to stop"
        assert door.logged("stopping: no new requests"), door.tail()
        assert late != 200
        acked = {i for i, s in outcome.items() if s == 200}
        refused = {i for i, s in outcome.items() if s != 200}
        # Not acknowledged means no answer at all (refused or cut), or a 503: never a 500.
        assert all(not isinstance(s, int) or s == 503 for i, s in outcome.items() if i in refused)
        assert refused, "no request arrived after the SIGTERM"
        assert await _claimed(db_url) == (0, 0), "something is still claimed after the exit"

        # A restart applies what was acknowledged and not applied yet, each once.
        again = await Process.start(tmp_path, slack, db_url=db_url, name="serve-2")
        try:
            await wait_until(lambda: _settled(db_url), 60, "the inbox and the jobs drained")
        finally:
            await again.stop()
        per_message = await _kudos_per_message(db_url)
        applied = {int(message.split(".")[1]) for message in per_message}
        assert all(n == 1 for n in per_message.values()), "an event was applied twice"
        lost = acked - applied
        assert not lost, f"{len(lost)} acknowledged events were lost: {sorted(lost)[:10]}"
        # Committed at the door but cut before its answer: applied too (a retry is a no-op).
        assert applied <= acked | refused
        # Every kudos DM went out exactly once: the workers finished what they ran.
        assert slack.dms() == {f"UAL{i}": 1 for i in applied}
        assert again.proc.returncode == 0, again.tail()


async def test_sigterm_refuses_new_connections_and_finishes_the_request_in_flight(
    tmp_path: Path, db_url: str
) -> None:
    async with SlackApi() as slack:
        slack.add_user("UA", "Ana")
        slack.add_user("UB", "Bo")
        door = await Process.start(tmp_path, slack, db_url=db_url, SHUTDOWN_GRACE="10")
        slack.delays["users.info"] = 3.0  # the command waits on Slack while the stop begins
        try:
            async with aiohttp.ClientSession() as http:
                body = command_form(
                    "UA", "kudos <@UB> thanks for staying", channel="DUA", trigger="t1"
                )
                in_flight = asyncio.create_task(post(http, door.url, body, FORM))
                await slack.wait_for("users.info", timeout=10)
                door.signal()
                refused = await _refused(door.url, within=2.5)
                assert not in_flight.done(), "the request in flight ended before the refusal"
                assert door.proc.returncode is None, "it exited before the request finished"
                assert refused, "new connections were still accepted 2.5 s after the SIGTERM"
                status, answer = await in_flight
            code = await door.wait(30)
        finally:
            await door.stop()
        assert status == 200 and b"Kudos sent" in answer, (status, answer, door.tail())
        assert code == 0, door.tail()
        assert await scalar(db_url, "SELECT count(*) FROM kudos") == 1


async def _refused(url: str, within: float) -> bool:
    """Whether a new connection (not a pooled one) is refused within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with aiohttp.ClientSession() as fresh, fresh.get(f"{url}/healthz"):
                pass
        except aiohttp.ClientConnectorError:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_stop_whose_grace_runs_out_releases_what_it_cut_short(
    tmp_path: Path, db_url: str
) -> None:
    """The workers' grace (1 s) runs out on a DM stuck in chat.postMessage and on events stuck
    in users.info: they are cancelled and released, not left claimed until their lease (the
    inbox's is set to 10 minutes here, the jobs' is a minute)."""
    async with SlackApi() as slack:
        # Each event queues two DMs (the kudos, a first badge): enough to keep every jobs
        # worker busy with one and leave some waiting.
        first = JOB_WORKERS // 2 + 1
        total = first + 5
        _people(slack, "S", total)
        env = {"SHUTDOWN_GRACE": "1", "INBOX_LEASE_SECONDS": "600"}
        door = await Process.start(tmp_path, slack, db_url=db_url, **env)
        try:
            async with aiohttp.ClientSession() as http:
                slack.delays["chat.postMessage"] = 60
                for i in range(first):  # applied; their DMs are stuck on their way to Slack
                    assert (await post(http, door.url, _reaction("S", i)))[0] == 200
                # Every jobs worker is busy with one (the other messages wait for a worker).
                await slack.wait_for("chat.postMessage", count=JOB_WORKERS, timeout=20)
                slack.delays["users.info"] = 60
                for i in range(first, total):  # stuck while they are applied
                    assert (await post(http, door.url, _reaction("S", i)))[0] == 200
                await wait_until(
                    lambda: _running_inbox(db_url), 20, "an event being applied at the stop"
                )
            stuck = await _claimed(db_url)
            in_flight = _messages(slack)
            start = time.monotonic()
            door.signal()
            code = await door.wait(BOUND + 10)
            took = time.monotonic() - start
        finally:
            await door.stop()
        assert code == 0, door.tail()
        assert took < 2 * 1 + WORKER_STOP_MARGIN, f"took {took:.1f}s to stop"
        assert stuck[0] > 0 and stuck[1] == JOB_WORKERS == in_flight.total(), (stuck, in_flight)
        assert await _claimed(db_url) == (0, 0), door.tail()
        # Given back with the attempt they used: pending at once.
        assert await scalar(db_url, "SELECT max(attempts) FROM inbox WHERE status = 'pending'") == 0
        assert await scalar(db_url, "SELECT max(attempts) FROM jobs WHERE status = 'pending'") == 0

        slack.delays.clear()
        again = await Process.start(tmp_path, slack, db_url=db_url, name="serve-2")
        try:
            # Well within the leases: the released rows were claimable at once.
            took = await wait_until(lambda: _settled(db_url), 30, "everything applied and sent")
        finally:
            await again.stop()
        assert took < 30
        assert len(await _kudos_per_message(db_url)) == total
        assert set(slack.dms()) == {f"UAS{i}" for i in range(total)}
        # The messages cut short had reached Slack: sent again (at least once, as documented);
        # every other message once.
        sent = _messages(slack)
        assert all(sent[m] == 2 for m in in_flight), (sent, in_flight)
        assert all(n == 1 for n in (sent - in_flight).values()), sent


def _messages(slack: SlackApi) -> Counter[tuple[str, str]]:
    """chat.postMessage calls received, by (channel, text)."""
    return Counter(
        (str(c.args.get("channel")), str(c.args.get("text")))
        for c in slack.calls_to("chat.postMessage")
    )


async def _running_inbox(db_url: str) -> bool:
    return int(await scalar(db_url, "SELECT count(*) FROM inbox WHERE status = 'running'")) > 0


async def test_allybot_worker_alone_releases_and_exits_0_on_sigterm(
    tmp_path: Path, db_url: str
) -> None:
    async with SlackApi() as slack:
        _people(slack, "W", 3)
        env = {"SHUTDOWN_GRACE": "1", "INBOX_LEASE_SECONDS": "600"}
        door = await Process.start(
            tmp_path, slack, db_url=db_url, command=("serve", "--worker", "external"), **env
        )
        worker = await Process.start(
            tmp_path, slack, db_url=db_url, command=("worker",), name="worker", **env
        )
        try:
            slack.delays["users.info"] = 60
            async with aiohttp.ClientSession() as http:
                for i in range(3):
                    assert (await post(http, door.url, _reaction("W", i)))[0] == 200
            await wait_until(lambda: _running_inbox(db_url), 20, "the worker applying events")
            start = time.monotonic()
            worker.signal()
            code = await worker.wait(BOUND + 10)
            took = time.monotonic() - start
            assert code == 0, worker.tail()
            assert took < 1 + WORKER_STOP_MARGIN, f"took {took:.1f}s to stop"
            assert await _claimed(db_url) == (0, 0), worker.tail()

            slack.delays.clear()
            second = await Process.start(
                tmp_path, slack, db_url=db_url, command=("worker",), name="worker-2", **env
            )
            try:
                await wait_until(lambda: _settled(db_url), 30, "applied by the next worker")
            finally:
                await second.stop()
        finally:
            await worker.stop()
            await door.stop()
        assert len(await _kudos_per_message(db_url)) == 3


async def test_sigterm_in_socket_mode_closes_the_connection_and_exits_0(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with SlackApi() as slack, FakeSocketMode() as socket:
        _people(slack, "K", 1)
        socket.attach(slack)
        door = await Process.start(
            tmp_path, slack, db_url=sqlite_url, SLACK_APP_TOKEN=slack.app_token
        )
        try:
            await socket.wait_connected(timeout=20)
            envelope = await socket.envelope("events_api", json.loads(_reaction("K", 0)))
            await socket.wait_ack(envelope, timeout=10)
            door.signal()
            code = await door.wait(BOUND + 10)
        finally:
            await door.stop()
        assert code == 0, door.tail()
        # Closed by the bot, not dropped: the server saw the close frame.
        assert all(ws.closed for ws in socket.connections), door.tail()
        last = socket.connections[-1]
        assert last.close_code == WSCloseCode.OK, last.close_code
        assert await scalar(sqlite_url, "SELECT count(*) FROM inbox") == 1
