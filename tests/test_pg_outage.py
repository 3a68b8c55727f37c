"""PostgreSQL outage (issue 12): while the database is stopped nothing is acknowledged, people
are told to try again, and everything recovers when it is back, without a restart.

Each test runs against a throwaway PostgreSQL cluster (tests/pg_cluster.py) that it stops and
starts itself, never the shared server: through the real slack-bolt and botbuilder apps
receiving signed requests on loopback, the console, and a real `allybot serve` process.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio

from adapters.console.app import run_console
from adapters.runtime import build_runtime
from adapters.workers import run_workers
from bot.clock import ManualClock, SystemClock
from bot.outage import UNAVAILABLE
from bot.settings import Settings
from store.migrate import upgrade
from tests.conftest import BACKENDS
from tests.fakes import FakeBotConnector, FakeSlackApi, FakeSocketMode, slack_signed_headers
from tests.helpers import deliver_all
from tests.pg_cluster import ClusterError, PgCluster
from tests.serve_support import free_port as _free_port
from tests.serve_support import serve_env
from tests.slack_support import SECRET, TEAM, SlackSystem, block_action, start_slack
from tests.test_socket_mode import APP_TOKEN, reaction_payload
from tests.test_teams_e2e import BO, CY, GENERAL, TeamsSystem, channel_message, personal, reaction

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
OUTAGE_LOG = "the database is unreachable"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    """One cluster for the module (initdb once); each test gets a database of its own.

    Like the other PostgreSQL tests: skipped without a PostgreSQL server on this machine (or
    with ALLYBOT_TEST_BACKENDS=sqlite), except under CI=true, where that is a failure.
    """
    if "postgresql" not in BACKENDS:
        pytest.skip("ALLYBOT_TEST_BACKENDS excludes postgresql")
    pg: PgCluster | None = None
    try:
        pg = PgCluster()
        pg.init()
        pg.start()
    except ClusterError as exc:
        if pg is not None:
            pg.teardown()
        if os.environ.get("CI") == "true":
            pytest.fail(f"no throwaway PostgreSQL cluster (CI=true: these tests must run): {exc}")
        pytest.skip(f"no throwaway PostgreSQL cluster: {exc}")
    try:
        yield pg
    finally:
        pg.teardown()


_template: dict[int, str] = {}


@pytest_asyncio.fixture
async def pg_url(cluster: PgCluster) -> AsyncIterator[str]:
    """A fresh database on the cluster, migrated (cloned from a template migrated once)."""
    if cluster.port not in _template:
        name = await cluster.create_database()
        await upgrade(cluster.url(name))
        _template[cluster.port] = name
    name = await cluster.create_database(template=_template[cluster.port])
    yield cluster.url(name)
    if not cluster.running:  # a failed test may leave it stopped
        await cluster.astart()
    await cluster.drop_database(name)


async def scalar(cluster: PgCluster, url: str, sql: str) -> Any:
    conn = await asyncpg.connect(cluster.dsn(url.rsplit("/", 1)[1]), timeout=10)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def eventually(check: Any, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def clap(giver: str, ts: str, author: str = "U2") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": giver,
        "reaction": "clap",
        "item": {"type": "message", "channel": "C1", "ts": ts},
        "item_user": author,
        "event_ts": ts,
    }


def outage_records(caplog: pytest.LogCaptureFixture, what: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{what}: {OUTAGE_LOG}")]


# ----- Slack, in process ------------------------------------------------------------------------


GROUP = 12  # events refused together, from one group commit at the door


@pytest_asyncio.fixture
async def slack(pg_url: str, fake_slack: FakeSlackApi) -> AsyncIterator[SlackSystem]:
    """The real Slack stack on the cluster's database, on the system clock (its workers run
    by themselves: no manual clock moves them)."""
    for i in range(GROUP):
        fake_slack.add_user(f"UG{i}", f"Giver {i}")
        fake_slack.add_user(f"UR{i}", f"Recipient {i}")
    async for system in start_slack(pg_url, fake_slack, SystemClock()):  # type: ignore[arg-type]
        yield system


def thanks_to(slack: SlackSystem, user: str) -> list[str]:
    sent = slack.sent("chat.postMessage", channel=user)
    return [d["text"] for d in sent if "gave you kudos" in d["text"]]


def group_event(slack: SlackSystem, i: int, **kw: Any) -> Any:
    # Each to someone else: their DMs go out side by side, not paced on one channel.
    return slack.event(clap(f"UG{i}", f"1700000001.{i:06d}", f"UR{i}"), event_id=f"EvG{i}", **kw)


async def test_slack_refuses_events_and_recovers_without_a_restart(
    cluster: PgCluster, pg_url: str, slack: SlackSystem, caplog: pytest.LogCaptureFixture
) -> None:
    core = slack.runtime.core
    stop = asyncio.Event()
    # The inbox's and the jobs' worker loops, as `allybot worker` runs them.
    workers = asyncio.create_task(run_workers(core, stop))
    try:
        assert "received: 0 this week" in (await slack.command("kudos stats <@U2>"))["text"]

        await cluster.astop("fast")
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        core.inbox.wake()  # type: ignore[union-attr]  # the workers meet the outage now
        core.scheduler.wake()

        resp = await slack.event(clap("U1", "1700000000.000100"), event_id="EvOut")
        assert resp.status == 503, await resp.text()
        assert resp.headers["Retry-After"] == "60"
        # A group commit at the door fails as a whole: every waiter is told, none hangs.
        group = await asyncio.wait_for(
            asyncio.gather(*(group_event(slack, i) for i in range(GROUP))), timeout=30
        )
        assert [r.status for r in group] == [503] * GROUP

        answer = await slack.command("kudos stats <@U2>")
        assert answer["text"] == UNAVAILABLE  # not the "something went wrong" apology
        assert answer["response_type"] == "ephemeral"
        pressed = await slack.action(block_action("routing:claim", "1", user="U1", channel="C1"))
        assert pressed.status == 200
        told = slack.sent("chat.postEphemeral", channel="C1", user="U1")
        assert [t["text"] for t in told] == [UNAVAILABLE]
        async with slack.http.get(f"{slack.url}/readyz") as ready:
            assert ready.status == 503
        await asyncio.sleep(1.0)  # the workers keep trying, with a backoff
        assert not workers.done()

        # Logged once per part of the process, as a WARNING; no traceback, no ERROR.
        for what in ("door", "inbox workers", "jobs worker"):
            records = outage_records(caplog, what)
            assert [r.levelno for r in records] == [logging.WARNING], what
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert [r for r in caplog.records if r.exc_info] == []

        await cluster.astart()
        # Nothing of what was refused was kept: Slack delivers it again.
        assert await scalar(cluster, pg_url, "SELECT count(*) FROM inbox") == 0
        resp = await slack.event(clap("U1", "1700000000.000100"), event_id="EvOut", headers=RETRY)
        assert resp.status == 200, await resp.text()
        again = await asyncio.gather(*(group_event(slack, i, headers=RETRY) for i in range(GROUP)))
        assert [r.status for r in again] == [200] * GROUP
        # Another redelivery of one already accepted is a no-op at the door.
        resp = await slack.event(clap("U1", "1700000000.000100"), event_id="EvOut", headers=RETRY)
        assert resp.status == 200

        recipients = ["U2", *(f"UR{i}" for i in range(GROUP))]

        async def all_thanked() -> bool:
            return all(thanks_to(slack, r) for r in recipients)

        await eventually(all_thanked)  # applied and delivered by the workers themselves
        await asyncio.sleep(0.5)  # anything sent twice would be sent by now
        assert [len(thanks_to(slack, r)) for r in recipients] == [1] * len(recipients)
        assert "*Ana* gave you kudos" in thanks_to(slack, "U2")[0]
        stats = await slack.command("kudos stats <@U2>")
        assert "received: 1 this week" in stats["text"]  # counted once
        kudos = "SELECT count(*) FROM kudos WHERE revoked_at IS NULL"
        assert await scalar(cluster, pg_url, kudos) == 1 + GROUP
        assert not workers.done()  # they came through the outage, not restarted
        for what in ("door", "inbox workers", "jobs worker"):
            back = f"{what}: the database is reachable again"
            assert len([r for r in caplog.records if r.getMessage() == back]) == 1, what
    finally:
        stop.set()
        await asyncio.wait_for(workers, timeout=15)


# ----- Teams, in process ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def teams(
    pg_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> AsyncIterator[TeamsSystem]:
    from tests.teams_support import start_teams

    async for system in start_teams(pg_url, clock, fake_connector):
        yield system


async def test_teams_refuses_events_and_recovers(cluster: PgCluster, teams: TeamsSystem) -> None:
    url = teams.connector.url
    await teams.send(channel_message(url, "kudos <at>Bo</at> demo", mentions=(BO,)))
    await teams.deliver()
    sends = teams.connector.calls_of("send")
    (post,) = [c for c in sends if c.conversation_id.split(";")[0] == GENERAL]
    seconded = reaction(url, post.response["id"], CY)

    await cluster.astop("fast")
    status, body = await teams.post(seconded)
    assert status == 503, body
    assert "temporarily unavailable" in body
    # Someone who asked Allybot something is answered, not refused.
    (reply,) = await teams.send(personal(url, "kudos stats", sender=BO))
    assert reply["text"] == UNAVAILABLE

    await cluster.astart()
    assert await teams.send(seconded) == []  # Teams' retry of the same activity: accepted
    assert await teams.send(seconded) == []  # and once more: a no-op
    await teams.deliver()
    dms = teams.dms_to(BO)
    assert len(dms) == 2 and "**Cy** gave you kudos" in dms[1]["text"]
    (stats,) = await teams.send(personal(url, "kudos stats", sender=BO))
    assert "received: 2 this week" in stats["text"]


# ----- the console ------------------------------------------------------------------------------


async def test_console_says_unavailable_and_keeps_running(
    cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The interactive console reads lines with input() in a thread: the outage begins and ends
    # between two lines, as if someone stopped the database while the console was open.
    script: list[tuple[str | None, str]] = [
        (None, "/ally kudos @bo thanks for the demo"),
        ("stop", "/ally kudos stats @bo"),
        (None, ":react 1 clap"),
        ("start", "/ally kudos stats @bo"),
    ]

    def typed(prompt: str = "") -> str:
        if not script:
            raise EOFError
        action, line = script.pop(0)
        if action == "stop":
            cluster.stop("fast")
        elif action == "start":
            cluster.start()
        out.append(f"{prompt}{line}")
        return line

    out: list[str] = []
    monkeypatch.setattr(builtins, "input", typed)
    settings = Settings(DATABASE_URL=pg_url, DATA_DIR=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert await run_console(settings, clock=clock, out=out.append) == 0
    text = "\n".join(out)
    assert "Kudos sent to @Bo Chen" in text
    stop_at = text.index("/ally kudos stats @bo")
    back_at = text.rindex("/ally kudos stats @bo")
    during = text[stop_at:back_at]
    assert during.count(UNAVAILABLE) == 2  # the command and the reaction, each told
    assert "Traceback" not in text and "went wrong" not in text
    assert "Received: 1 this week" in text[back_at:]  # the same session, working again


# ----- `allybot serve` as a process -------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4: the parent's pid
                found.add(int(entry))
    return found


def _reaction(i: int) -> bytes:
    return json.dumps(
        {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"EvServe{i}",
            "event_time": int(time.time()),
            "event": clap(f"UG{i}", f"1700000000.{i:06d}", author=f"UR{i}"),
        }
    ).encode()


async def test_serve_process_rides_out_an_outage(
    cluster: PgCluster, pg_url: str, tmp_path: Path, fake_slack: FakeSlackApi
) -> None:
    events = 60
    for i in range(events):
        fake_slack.add_user(f"UG{i}", f"Giver {i}")
        fake_slack.add_user(f"UR{i}", f"Recipient {i}")
    port = _free_port()
    env = serve_env(tmp_path, port, fake_slack, LOG_LEVEL="WARNING", INBOX_LEASE_SECONDS="2")
    env["DATABASE_URL"] = pg_url
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.cli",
            "serve",
            cwd=tmp_path,
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
    statuses: dict[int, int] = {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:

            async def get(path: str) -> int:
                try:
                    async with http.get(base + path) as resp:
                        return resp.status
                except aiohttp.ClientConnectionError:
                    return 0

            async def up() -> bool:
                return await get("/readyz") == 200

            await eventually(up, timeout=30)
            await asyncio.sleep(1.0)  # the worker processes are started
            workers = _children(proc.pid)  # on PostgreSQL: one for events, one for jobs
            assert workers

            async def send(i: int, headers: dict[str, str] | None = None) -> int:
                body = _reaction(i)
                signed = slack_signed_headers(SECRET, body, content_type="application/json")
                try:
                    async with http.post(
                        f"{base}/slack/events", data=body, headers={**signed, **(headers or {})}
                    ) as resp:
                        return resp.status
                except (TimeoutError, aiohttp.ClientError):
                    return 0  # not acknowledged: Slack would send it again

            # Load, and the database crashes in the middle of it (immediate: no clean shutdown).
            queue = list(range(events))
            stopped = asyncio.Event()

            async def sender() -> None:
                while queue:
                    i = queue.pop(0)
                    statuses[i] = await send(i)
                    if (
                        sum(s == 200 for s in statuses.values()) >= events // 3
                        and not stopped.is_set()
                    ):
                        stopped.set()
                        await cluster.astop("immediate")

            await asyncio.gather(*(sender() for _ in range(6)))
            assert stopped.is_set()
            refused = sorted(i for i, s in statuses.items() if s != 200)
            assert refused, "every event was acknowledged: the outage came too late"
            # Each event was answered: acknowledged (200) or refused with 503, never a 500.
            assert {statuses[i] for i in refused} == {503}, statuses
            assert await get("/readyz") == 503
            assert proc.returncode is None

            await asyncio.sleep(1.0)  # the workers meet the outage
            await cluster.astart()
            await eventually(up)
            # Slack's redeliveries of everything refused; of a few acknowledged ones too.
            for i in refused + [i for i in range(events) if statuses[i] == 200][:5]:
                assert await send(i, RETRY) == 200, i

            async def drained() -> bool:
                waiting = await scalar(
                    cluster, pg_url, "SELECT count(*) FROM inbox WHERE status <> 'done'"
                )
                return bool(waiting == 0)

            await eventually(drained, timeout=60)
            rows = await scalar(
                cluster,
                pg_url,
                "SELECT json_agg(json_build_array(message_id, n)) FROM (SELECT message_id, "
                "count(*) AS n FROM kudos WHERE revoked_at IS NULL GROUP BY message_id) k",
            )
            per_message = {m: n for m, n in json.loads(rows)}
            lost = {i for i in range(events) if f"1700000000.{i:06d}" not in per_message}
            assert not lost, f"lost: {sorted(lost)}, of which acknowledged: " + str(
                sorted(i for i in lost if statuses[i] == 200)
            )
            assert set(per_message.values()) == {1}, "an event was applied twice"

            async def delivered() -> bool:
                dms = {c.args.get("channel") for c in fake_slack.calls_to("chat.postMessage")}
                return all(f"UR{i}" in dms for i in range(events))

            await eventually(delivered, timeout=60)  # the jobs worker resumed by itself
            assert proc.returncode is None  # no restart of the door
            assert _children(proc.pid) == workers  # nor of its worker processes
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    log = log_path.read_text(errors="replace")
    assert "worker process exited" not in log
    assert "Traceback" not in log, log[-4000:]
    assert OUTAGE_LOG in log


# ----- Slack in Socket Mode ----------------------------------------------------------------------


async def test_socket_mode_leaves_an_envelope_unacknowledged_while_the_database_is_away(
    cluster: PgCluster, pg_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    """Socket Mode has no HTTP status to refuse with: the envelope is left unacknowledged
    (bolt acks only a 200), so Slack sends it again; the door deduplicates the copy."""
    fake_slack.add_user("U1", "Ana")
    fake_slack.add_user("U2", "Bo")
    fake_slack.app_token = APP_TOKEN
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=pg_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=fake_slack.url,
        _env_file=None,
    )
    async with FakeSocketMode() as socket:
        socket.attach(fake_slack)
        runtime = await build_runtime(settings, clock=clock, run_worker=False)
        try:
            assert runtime.socket_mode is not None
            await runtime.socket_mode.connect_async()
            await socket.wait_connected()
            await cluster.astop()
            envelope = await socket.envelope("events_api", reaction_payload("EvAway"))
            with pytest.raises(AssertionError, match="timed out"):
                await socket.wait_ack(envelope, timeout=1.5)
            await cluster.astart()
            again = await socket.envelope(
                "events_api", reaction_payload("EvAway"), retry_attempt=1, retry_reason="timeout"
            )
            await socket.wait_ack(again, timeout=15)
            await deliver_all(runtime.core)
            assert await scalar(cluster, pg_url, "SELECT count(*) FROM kudos") == 1
            dms = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == "U2"]
            assert len(dms) == 1
            assert socket.acks(envelope) == []  # the first copy was never acknowledged
        finally:
            await runtime.close()
