"""GET /metrics: the token that guards it, the counters the door, the workers and the
capabilities move, and the gauges read from the database; through the real aiohttp app, the
real slack-bolt and botbuilder adapters getting signed requests on loopback, and one
`allybot serve` process whose worker's deliveries show on the door's /metrics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from adapters import metrics_processes
from adapters.runtime import build_runtime
from bot import delivery, metrics
from bot.clock import ManualClock
from bot.core import Allybot
from bot.settings import Settings
from tests.conversation import Chat
from tests.fakes import FakeBotConnector, FakeSlackApi, form_body, slack_signed_headers
from tests.helpers import deliver_all
from tests.serve_support import free_port as _free_port
from tests.serve_support import kudos_form, serve_env, wait_healthy
from tests.slack_support import SECRET, TEAM, SlackSystem, slack_settings

TOKEN = "metrics-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@asynccontextmanager
async def slack_system(
    db_url: str, api: FakeSlackApi, clock: ManualClock, **extra: Any
) -> AsyncIterator[SlackSystem]:
    """tests/slack_support.start_slack's system, with settings of our own (METRICS_TOKEN)."""
    api.add_user("U1", "Ana", real_name="Ana Lopez", tz="Europe/Paris")
    api.add_user("U2", "Bo", real_name="Bo Chen", tz="America/New_York")
    settings = slack_settings(db_url, api, **{"METRICS_TOKEN": TOKEN, **extra})
    runtime = await build_runtime(settings, clock=clock, run_worker=False)
    runner = web.AppRunner(runtime.app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield SlackSystem(runtime, api, f"http://127.0.0.1:{runner.addresses[0][1]}", http)
    finally:
        await runner.cleanup()
        await runtime.close()


async def scrape(system: SlackSystem) -> Samples:
    async with system.http.get(f"{system.url}/metrics", headers=AUTH) as resp:
        assert resp.status == 200, await resp.text()
        return parse(await resp.text())


def counted(name: str, **labels: str) -> float:
    """A counter of this process (the in-process tests run without multiprocess mode)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def clap(giver: str = "U1", ts: str = "1700000000.000100") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": giver,
        "reaction": "clap",
        "item": {"type": "message", "channel": "C1", "ts": ts},
        "item_user": "U2",
        "event_ts": "1700000001.000001",
    }


# ----- the token ------------------------------------------------------------------------------


async def test_metrics_are_off_without_a_token(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    async with slack_system(sqlite_url, fake_slack, clock, METRICS_TOKEN=None) as system:
        resp = await system.http.get(f"{system.url}/metrics", headers=AUTH)
        assert resp.status == 404
        assert "set METRICS_TOKEN" in await resp.text()


async def test_metrics_need_the_bearer_token(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    async with slack_system(sqlite_url, fake_slack, clock) as system:
        url = f"{system.url}/metrics"
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-0123456789"},
            {"Authorization": TOKEN},  # no scheme
            {"Authorization": f"Bearer {TOKEN}x"},
            {"Authorization": f"Basic {TOKEN}"},
        ):
            async with system.http.get(url, headers=headers) as resp:
                assert resp.status == 401, headers
                assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                assert TOKEN not in await resp.text()
        async with system.http.get(url, headers=AUTH) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            samples = parse(await resp.text())
        assert value(samples, "allybot_database_up") == 1


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        Settings(METRICS_TOKEN="short", _env_file=None)  # type: ignore[call-arg]
    assert Settings(METRICS_TOKEN="  ", _env_file=None).metrics_token is None  # type: ignore[call-arg]


# ----- the door -------------------------------------------------------------------------------


async def test_the_door_counts_and_times_every_request(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    async with slack_system(db_url, fake_slack, clock) as system:
        before = await scrape(system)
        assert (await system.event(clap(), event_id="EvM1")).status == 200
        assert (await system.event(clap(), event_id="EvM1")).status == 200  # a retry
        form = form_body({"hello": "1"})  # signed, but no Slack request: 400
        assert (await system.post(form, "application/x-www-form-urlencoded")).status == 400
        bad = await system.post(json.dumps({"type": "x"}), "application/json", secret="nope")
        assert bad.status == 401
        reply = await system.command("kudos <@U2> thanks for the review")
        assert "Kudos sent" in reply["text"]
        other = {"type": "channel_created", "channel": {"id": "C9", "name": "x"}}
        assert (await system.event(other)).status == 200  # acknowledged, nothing to do
        after = await scrape(system)

    def moved(kind: str, outcome: str) -> float:
        labels = {"platform": "slack", "kind": kind, "outcome": outcome}
        return value(after, "allybot_events_total", **labels) - value(
            before, "allybot_events_total", **labels
        )

    assert moved("ReactionChanged", "accepted") == 1
    assert moved("ReactionChanged", "duplicate") == 1
    assert moved("other", "rejected") == 1
    assert moved("other", "unauthorized") == 1
    assert moved("CommandInvoked", "answered") == 1
    assert moved("other", "ignored") == 1
    acks = "allybot_ack_seconds_count"
    assert value(after, acks, platform="slack") - value(before, acks, platform="slack") == 6
    # Bounded labels: nothing names a person, a workspace or an event.
    for (_, labels), _v in after.items():
        for _name, label in labels:
            assert not any(x in label for x in ("U1", "U2", TEAM, "EvM1")), labels


async def test_teams_requests_are_counted_too(
    sqlite_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> None:
    from tests.teams_support import start_teams
    from tests.test_teams_e2e import BO, personal

    def count(kind: str, outcome: str) -> float:
        return counted("allybot_events_total", platform="teams", kind=kind, outcome=outcome)

    base = {o: count("MessagePosted", o) for o in ("answered", "duplicate")}
    rejected = count("other", "rejected")
    async for teams in start_teams(sqlite_url, clock, fake_connector):
        activity = personal(fake_connector.url, "kudos <at>Bo</at> thanks!", mentions=(BO,))
        assert "Kudos sent" in (await teams.send(activity))[0]["text"]
        assert "Already done" in (await teams.send(dict(activity)))[0]["text"]
        status, _ = await teams.post(None, data=b"not json", headers={"Content-Type": "text/x"})
        assert status == 415
    assert count("MessagePosted", "answered") - base["answered"] == 1
    assert count("MessagePosted", "duplicate") - base["duplicate"] == 1
    assert count("other", "rejected") - rejected == 1


# ----- the database's gauges, the workers' counters ---------------------------------------------


async def test_inbox_and_queue_gauges_are_read_from_the_database(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    async with slack_system(db_url, fake_slack, clock) as system:
        core = system.runtime.core
        before = await scrape(system)
        assert (await system.event(clap(), event_id="EvG1")).status == 200
        clock.advance(timedelta(seconds=30))
        waiting = await scrape(system)
        assert value(waiting, "allybot_inbox_waiting") == 1
        assert value(waiting, "allybot_inbox_oldest_age_seconds") == 30
        assert value(waiting, "allybot_inbox_failed") == 0
        # Every kind this build runs is there, a quiet one at 0.
        assert ("allybot_jobs_pending", frozenset({("kind", "routing.escalate")})) in waiting

        assert core.inbox is not None and await core.inbox.run_due() == 1
        clock.advance(timedelta(seconds=12))
        queued = await scrape(system)
        assert value(queued, "allybot_inbox_waiting") == 0
        applied = {"kind": "ReactionChanged", "outcome": "applied"}
        assert (
            value(queued, "allybot_inbox_events_total", **applied)
            - value(before, "allybot_inbox_events_total", **applied)
            == 1
        )
        due = value(queued, "allybot_jobs_due", kind=delivery.KIND)
        assert due >= 1  # the DM to Bo, at least
        assert value(queued, "allybot_jobs_pending", kind=delivery.KIND) >= due
        assert value(queued, "allybot_job_lag_seconds", kind=delivery.KIND) == 12

        await deliver_all(core)
        assert system.sent("chat.postMessage", channel="U2")
        done = await scrape(system)
    assert value(done, "allybot_jobs_due", kind=delivery.KIND) == 0
    assert value(done, "allybot_job_lag_seconds", kind=delivery.KIND) == 0
    sent = {"platform": "slack", "outcome": "done"}
    assert (
        value(done, "allybot_deliveries_total", **sent)
        - value(before, "allybot_deliveries_total", **sent)
        == due
    )
    job = {"kind": delivery.KIND, "outcome": "done"}
    assert (
        value(done, "allybot_jobs_total", **job) - value(before, "allybot_jobs_total", **job) == due
    )


async def test_deliveries_count_429s_retries_and_give_ups(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    def count(outcome: str) -> float:
        return counted("allybot_deliveries_total", platform="slack", outcome=outcome)

    before = {o: count(o) for o in ("done", "rate_limited", "retry", "gave_up")}
    async with slack_system(sqlite_url, fake_slack, clock) as system:
        await system.command("kudos <@U2> thanks for the review", channel="D1")
        fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
        fake_slack.fail_next("chat.postMessage", "internal_error", status=500)
        fake_slack.fail_next("chat.postMessage", "channel_not_found")
        await deliver_all(system.runtime.core, within=60)
    moved = {o: count(o) - n for o, n in before.items()}
    assert moved["rate_limited"] == 1
    assert moved["retry"] == 1
    assert moved["gave_up"] == 1
    assert moved["done"] >= 1  # the admins were told about the give-up, at least


def test_the_delivery_kind_is_the_one_counted() -> None:
    assert metrics.DELIVER == delivery.KIND


async def test_listener_failures_count_as_transaction_retries(core: Allybot, chat: Chat) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in some other capability")

    from bot.events import ReactionChanged

    core._listeners[ReactionChanged].insert(0, ("broken.on_reaction", broken))
    labels = {"where": "unit_of_work", "reason": "listener_failed"}
    before = counted("allybot_transaction_retries_total", **labels)
    message = await chat.post("bo", "shipped it")
    await chat.react("cy", message, "clap")
    assert counted("allybot_transaction_retries_total", **labels) - before == 1
    assert any("gave you kudos" in t for t in chat.pop("bo"))  # the others still ran


# ----- the capabilities' decisions ------------------------------------------------------------


async def test_routing_decisions_are_counted_when_committed(core: Allybot, chat: Chat) -> None:
    def count(outcome: str) -> float:
        return counted("allybot_questions_total", outcome=outcome)

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in some other capability")

    from bot.events import MessagePosted

    # After routing's listener: the first run of the question's unit of work is rolled back,
    # and it runs again with each listener isolated. Only the run that commits counts.
    core._listeners[MessagePosted].append(("broken.on_message", broken))

    outcomes = ("created", "routed", "claimed", "resolved", "passed")
    before = {o: count(o) for o in outcomes}
    assert "Added the topic vpn" in await chat.say("ana", 'topic add vpn "VPN" keywords: vpn')
    for name in ("dee", "cy"):
        assert "is now an expert" in await chat.say("ana", f"expert add @{name} vpn")
    assert "is a help channel now" in await chat.say("ana", "help-channel add #help vpn")
    await chat.post("bo", "My VPN keeps dropping", where="help")
    asked = [b for b in chat.buttons("dee") if b[1] == "routing:claim"]
    assert asked, chat.pop("dee")
    qid = asked[0][2]
    assert "You're on Q-1" in await chat.press("dee", "routing:claim", qid)
    assert "already on Q-1" in await chat.press("cy", "routing:claim", qid)  # rolled back
    assert "resolved" in await chat.press("bo", "routing:resolve", qid)
    moved = {o: count(o) - n for o, n in before.items()}
    assert moved == {"created": 1, "routed": 1, "claimed": 1, "resolved": 1, "passed": 0}


async def test_nudge_decisions_are_counted(chat: Chat) -> None:
    def count(outcome: str, reason: str = "") -> float:
        return counted("allybot_nudges_total", outcome=outcome, reason=reason)

    before = {
        "queued": count("queued"),
        "sent": count("sent", "content"),
        "suppressed": count("suppressed", "kind off"),
    }
    await chat.say("ana", "role add @cy community-manager")
    await chat.say("cy", "office add Paris tz Europe/Paris")
    for who in ("bo", "dee"):
        await chat.say("cy", f"ambassador add @{who} Paris")
        await chat.say(who, "nudges on")
    await chat.say("bo", "nudges kinds questions")  # no content nudges for Bo
    await chat.say("cy", 'content add https://example.com/launch "Our launch" "Proud!"')
    await chat.later(seconds=1)
    assert count("queued") - before["queued"] == 1  # Dee's
    assert count("suppressed", "kind off") - before["suppressed"] == 1  # Bo's
    assert count("sent", "content") - before["sent"] == 1


# ----- the process layout: serve's workers count, the door shows it -----------------------------


def test_a_given_multiprocess_directory_is_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv(metrics_processes.ENV, str(tmp_path))
    assert metrics_processes.share_with_workers() == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.fixture
def temp_dir(tmp_path: Path) -> Path:
    """The TMPDIR of the serve process, to see its multiprocess directory come and go."""
    where = tmp_path / "tmp"
    where.mkdir()
    return where


async def test_a_delivery_by_the_worker_process_shows_on_the_doors_metrics(
    tmp_path: Path, temp_dir: Path, fake_slack: FakeSlackApi
) -> None:
    fake_slack.add_user("U1", "Ana")
    fake_slack.add_user("U2", "Bo")
    port = _free_port()
    env = serve_env(tmp_path, port, fake_slack, METRICS_TOKEN=TOKEN, TMPDIR=str(temp_dir))
    # Left by serve processes killed before they could clean up: one whose pid is gone, and
    # one whose process still runs (this one), which must be kept.
    (temp_dir / "allybot-metrics-999999999-orphan").mkdir()
    alive = f"allybot-metrics-{os.getpid()}-alive"
    (temp_dir / alive).mkdir()
    env.pop(metrics_processes.ENV, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base)
            (shared,) = set(os.listdir(temp_dir)) - {alive}  # serve's multiprocess directory
            assert shared.startswith(f"allybot-metrics-{proc.pid}-")
            body = kudos_form("t-metrics", channel="D1")
            headers = slack_signed_headers(
                SECRET, body, content_type="application/x-www-form-urlencoded"
            )
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200
            await fake_slack.wait_for(
                "chat.postMessage", predicate=lambda c: c.args.get("channel") == "U2", timeout=10
            )
            # The worker process sent it; the door's scrape adds up every process's files.
            deadline = time.monotonic() + 10
            while True:
                async with http.get(f"{base}/metrics", headers=AUTH) as resp:
                    assert resp.status == 200
                    samples = parse(await resp.text())
                sent = value(samples, "allybot_deliveries_total", platform="slack", outcome="done")
                if sent >= 1 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert sent >= 1
            answered = {"platform": "slack", "kind": "CommandInvoked", "outcome": "answered"}
            assert value(samples, "allybot_events_total", **answered) == 1
            assert value(samples, "allybot_ack_seconds_count", platform="slack") == 1
            assert value(samples, "allybot_jobs_total", kind="deliver", outcome="done") >= 1
            assert value(samples, "allybot_database_up") == 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert os.listdir(temp_dir) == [alive]  # serve's own was removed when it exited
