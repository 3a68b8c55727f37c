"""Logs: LOG_FORMAT=json gives one JSON object per line carrying the request, event and
workspace it is about; secrets never reach a line; plain stays the default; a bad LOG_FORMAT
stops the start with its name. Through the real Slack app on loopback, and `allybot serve` as
a process (its worker processes log the same way)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import logcontext, logs
from bot.settings import Settings
from tests.fakes import FakeSlackApi, slack_signed_headers
from tests.helpers import deliver_all
from tests.serve_support import ROOT, kudos_form, serve_env, wait_healthy
from tests.serve_support import free_port as _free_port
from tests.slack_support import SECRET, TEAM, block_action
from tests.test_metrics import clap, slack_system

PASSWORD = "teams-app-password-42"
TOKEN = "xoxb-1234-5678-abcdefSECRET"


def json_settings(**extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        LOG_FORMAT="json",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        MICROSOFT_APP_PASSWORD=PASSWORD,
        DATABASE_URL="postgresql+asyncpg://allybot:db-password-7@127.0.0.1:5432/x",
        _env_file=None,
        **extra,
    )


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the JSON handler of `allybot serve` writes, for the loggers of this process."""
    out = io.StringIO()
    handler = logs.handler(json_settings())
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]  # each one parses


async def test_json_lines_carry_the_request_event_and_workspace(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: Any, captured: io.StringIO
) -> None:
    async with slack_system(sqlite_url, fake_slack, clock) as system:
        core = system.runtime.core

        # At the door: a button nobody declared is logged by the core, inside the request.
        payload = block_action("nope:1", "x", user="U1", channel="D1", trigger="trig-log")
        assert (await system.action(payload)).status == 200

        # In the inbox's workers: a listener that fails, logged while its event is applied.
        async def broken(*_: object) -> None:
            raise RuntimeError("a bug in some other capability")

        from bot.events import ReactionChanged

        core._listeners[ReactionChanged].insert(0, ("broken.on_reaction", broken))
        assert (await system.event(clap(), event_id="EvLog1")).status == 200
        await deliver_all(core)

    found = lines(captured)
    (door,) = [e for e in found if e["message"].startswith("ignored unknown ActionPressed")]
    assert door["level"] == "INFO" and door["logger"] == "bot.core"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", door["timestamp"])
    assert re.fullmatch(r"[0-9a-f]{16}", door["request_id"])
    assert door["platform"] == "slack"
    assert door["workspace"] == f"slack:{TEAM}"
    assert door["event_id"].startswith("action:trig-log:")
    about = [e for e in found if "failed on event EvLog1" in e["message"]]
    assert [e["level"] for e in about] == ["INFO", "ERROR"]  # run again isolated, then logged
    assert all(e["event_id"] == "EvLog1" and "inbox_id" in e for e in about)
    worker = about[1]
    assert worker["level"] == "ERROR"
    assert worker["event_id"] == "EvLog1" and worker["workspace"] == f"slack:{TEAM}"
    assert isinstance(worker["inbox_id"], str) and "request_id" not in worker
    assert "RuntimeError: a bug in some other capability" in worker["exception"]
    # A delivery job's lines say which job and workspace they are about.
    assert all("job_id" in e for e in found if e["logger"] == "bot.delivery")


def test_secrets_are_masked_in_messages_arguments_and_tracebacks(
    captured: io.StringIO,
) -> None:
    log = logging.getLogger("allybot.test")
    log.warning("token %s in the arguments", TOKEN)
    log.warning("headers: {'Authorization': 'Bearer eyJhbGciOi.eyJzdWIiOiIxIn0.c2ln'}")
    log.warning("a user token xoxp-9-8-7 and an app token xapp-1-A1-2-abc")
    log.warning("the signing secret is %s, the password %s", SECRET, PASSWORD)
    log.warning("a JWT alone: eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.sig-nature_1")
    log.warning("postgresql://allybot:db-password-7@db/x unreachable")
    try:
        raise RuntimeError(f"Slack said invalid_auth for {TOKEN} (secret {SECRET})")
    except RuntimeError:
        log.exception("a call failed")
    text = captured.getvalue()
    for secret in (
        TOKEN,
        "xoxp-9-8-7",
        "xapp-1-A1-2-abc",
        SECRET,
        PASSWORD,
        "eyJhbGciOi",
        "c2ln",
        "db-password-7",
    ):
        assert secret not in text, secret
    found = lines(captured)
    # The configured token is masked whole; any other Slack token keeps its prefix.
    assert found[0]["message"] == "token [redacted] in the arguments"
    assert found[2]["message"] == "a user token xoxp-[redacted] and an app token xapp-[redacted]"
    assert "'Authorization': 'Bearer [redacted]'" in found[1]["message"]
    assert found[3]["message"] == "the signing secret is [redacted], the password [redacted]"
    assert "Slack said invalid_auth for [redacted] (secret [redacted])" in found[-1]["exception"]


def test_plain_is_the_default_and_says_the_context_too() -> None:
    settings = Settings(SLACK_SIGNING_SECRET=SECRET, _env_file=None)  # type: ignore[call-arg]
    assert settings.log_format == "plain"
    handler = logs.handler(settings)
    assert isinstance(handler, logging.StreamHandler)
    out = io.StringIO()
    handler.setStream(out)
    log = logging.getLogger("allybot.plain")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("outside any scope")
        with logcontext.scope(request_id="r1", platform="slack"):
            logcontext.bind(event_id="Ev9", workspace="slack:T1")
            log.warning("inside, secret %s", SECRET)
        logcontext.bind(event_id="lost")  # no scope: nothing kept
        log.warning("after")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    first, inside, after = out.getvalue().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING allybot.plain: outside any scope", first
    )
    assert inside.endswith(
        "WARNING allybot.plain: inside, secret [redacted] "
        "[request_id=r1 platform=slack event_id=Ev9 workspace=slack:T1]"
    )
    assert after.endswith("allybot.plain: after")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LOG_FORMAT", "xml", "LOG_FORMAT: Input should be 'plain' or 'json' (got 'xml')"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN: Value error, expected at least 16"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "status"],
        cwd=tmp_path,
        env={**env, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "the configuration is not valid" in result.stderr
    assert expected in result.stderr, result.stderr


def test_log_format_is_read_case_insensitively() -> None:
    assert Settings(LOG_FORMAT=" JSON ", _env_file=None).log_format == "json"  # type: ignore[call-arg]


async def test_serve_and_its_workers_write_json_and_no_token(
    tmp_path: Path, fake_slack: FakeSlackApi
) -> None:
    fake_slack.add_user("U1", "Ana")
    fake_slack.add_user("U2", "Bo")
    port = _free_port()
    # DEBUG: slack_sdk then logs every Web API call it makes, headers included.
    env = serve_env(tmp_path, port, fake_slack, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    # Read as it comes: a full pipe would stop the process at its next log line.
    reading = asyncio.create_task(proc.stderr.read())
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base)
            body = kudos_form("t-logs", channel="D1")
            headers = slack_signed_headers(
                SECRET, body, content_type="application/x-www-form-urlencoded"
            )
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200
            # Text from a platform that ends up in a log line (the door logs event types it
            # ignores): a token in it, and the signing secret, are masked there too.
            for leak in ("xoxp-1111-2222-leaked", f"x-{SECRET}"):
                envelope = {
                    "token": "x",
                    "team_id": TEAM,
                    "api_app_id": "A1",
                    "type": "event_callback",
                    "event_id": f"Ev-{leak}",
                    "event_time": 1700000000,
                    "event": {"type": leak, "event_ts": "1700000000.000001"},
                }
                raw = json.dumps(envelope)
                signed = slack_signed_headers(SECRET, raw, content_type="application/json")
                async with http.post(f"{base}/slack/events", data=raw, headers=signed) as resp:
                    assert resp.status == 200
        await fake_slack.wait_for(
            "chat.postMessage", predicate=lambda c: c.args.get("channel") == "U2", timeout=10
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    text = (await reading).decode()
    for secret in ("xoxb-test-token", SECRET, "xoxp-1111-2222-leaked"):
        assert secret not in text, secret
    assert "ignored Slack event type 'xoxp-[redacted]'" in text
    found = [json.loads(line) for line in text.splitlines()]  # every line is one object
    pids = {e["pid"] for e in found}
    assert len(pids) >= 2, pids  # the door and its worker process
    assert any(e["logger"].startswith("slack_sdk") for e in found)  # the calls were logged
    assert all({"timestamp", "level", "logger", "message"} <= e.keys() for e in found)
