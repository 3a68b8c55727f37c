"""`allybot serve` and `allybot worker` as real processes, for the lifecycle tests (kill -9,
SIGTERM, two replicas, mutual kudos through the door): starting and stopping them, signed Slack
requests, a fake Web API that can answer slowly and listen on a second port, and reading the
database directly, as an operator would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tests.conftest import BACKENDS
from tests.databases import drop_postgres_database, postgres_database
from tests.fakes import FakeSlackApi, form_body, slack_signed_headers
from tests.slack_support import SECRET, TEAM

__all__ = [
    "ROOT",
    "SECRET",
    "TEAM",
    "Process",
    "SlackApi",
    "command_form",
    "free_port",
    "fresh_postgres",
    "kudos_form",
    "post",
    "query",
    "reaction_event",
    "scalar",
    "serve_env",
    "wait_healthy",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(tmp_path: Path, port: int, fake_slack: FakeSlackApi, **extra: str) -> dict[str, str]:
    """The environment of an `allybot serve` process on loopback against the fake Web API, with
    nothing of this machine's own platform settings or database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_DIR=str(tmp_path),
        PORT=str(port),
        HOST="127.0.0.1",
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake_slack.url,
        **extra,
    )
    env.pop("DATABASE_URL", None)
    return env


free_port = _free_port


async def wait_healthy(http: aiohttp.ClientSession, base: str, tries: int = 200) -> dict[str, Any]:
    """Waits until the server at `base` answers /healthz with 200; its JSON answer."""
    for _ in range(tries):
        try:
            async with http.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    answer: dict[str, Any] = await resp.json()
                    return answer
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server at {base} did not come up")


def kudos_form(trigger: str, *, channel: str = "D1") -> str:
    """U1's `/kudos <@U2> thanks for the launch`, as a slash command form."""
    return form_body(
        {
            "team_id": TEAM,
            "channel_id": channel,
            "user_id": "U1",
            "command": "/kudos",
            "text": "<@U2> thanks for the launch",
            "trigger_id": trigger,
        }
    )


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class SlackApi(FakeSlackApi):
    """The fake Web API, plus: when each call arrived (`arrived[i]` is `calls[i]`'s monotonic
    time); `delays` (method -> seconds): the call is recorded on arrival, as Slack would have
    received it, and answered only after the delay; and a second listening port (`url_b`), so
    two replicas' calls can be told apart by their Host header (`via_b`)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []
        self.delays: dict[str, float] = {}
        self.port_b: int | None = None

    async def start(self) -> None:
        await super().start()
        assert self._runner is not None
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port_b = int(self._runner.addresses[-1][1])

    @property
    def url_b(self) -> str:
        return f"http://{self.host}:{self.port_b}/api/"

    def via_b(self, index: int) -> bool:
        return self.calls[index].headers.get("Host", "").endswith(f":{self.port_b}")

    def _record(self, call: Any) -> None:
        self.arrived.append(time.monotonic())
        super()._record(call)

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        delay = self.delays.get(request.match_info["method"], 0.0)
        if delay:
            await asyncio.sleep(delay)
        return response

    def posts(self, channel: str) -> list[tuple[float, int]]:
        """(arrival, index) of each chat.postMessage to `channel`, in arrival order."""
        return [
            (self.arrived[i], i)
            for i, call in enumerate(self.calls)
            if call.method == "chat.postMessage" and call.args.get("channel") == channel
        ]

    def dms(self) -> dict[str, int]:
        """Kudos DMs received, per recipient (a DM is posted to the user id)."""
        counts: dict[str, int] = {}
        for call in self.calls:
            channel = str(call.args.get("channel", ""))
            text = str(call.args.get("text", ""))
            if call.method == "chat.postMessage" and channel[:1] == "U" and "gave you" in text:
                counts[channel] = counts.get(channel, 0) + 1
        return counts


class Process:
    """`allybot serve` or `allybot worker`, started from the repository with its log in a file
    (stderr of the door and of the worker processes it starts)."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log

    @classmethod
    async def start(
        cls,
        tmp_path: Path,
        slack: FakeSlackApi,
        *,
        db_url: str | None = None,
        command: Sequence[str] = ("serve",),
        name: str = "serve",
        slack_url: str | None = None,
        port: int | None = None,
        **env: str,
    ) -> Process:
        """`db_url` None: the default SQLite file in `tmp_path` (DATA_DIR)."""
        port = port or free_port()
        environ = serve_env(tmp_path, port, slack, **{"LOG_LEVEL": "INFO", **env})
        if db_url is not None:
            environ["DATABASE_URL"] = db_url
        if slack_url is not None:
            environ["SLACK_API_URL"] = slack_url
        log = tmp_path / f"{name}.log"
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "adapters.cli",
                *command,
                cwd=tmp_path,
                env=environ,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=out,
            )
        started = cls(proc, port, log)
        if command[0] == "serve":
            await started.wait_up()
        return started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_up(self, timeout: float = 30) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    break
                try:
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"allybot did not come up:\n{self.tail()}")

    def signal(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"still running after {timeout}s:\n{self.tail()}") from None

    async def stop(self) -> None:
        """Teardown: SIGTERM, and kill -9 if it does not exit in time."""
        if self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def logged(self, text: str) -> bool:
        return self.log.exists() and text in self.log.read_text(errors="replace")


# ----- signed Slack requests --------------------------------------------------------------


def reaction_event(
    event_id: str,
    *,
    giver: str,
    author: str,
    ts: str,
    channel: str = "C1",
    reaction: str = "clap",
) -> bytes:
    """A `reaction_added` envelope: `giver` reacts to `author`'s message `ts`."""
    envelope = {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": {
            "type": "reaction_added",
            "user": giver,
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "item_user": author,
            "event_ts": f"{time.time():.6f}",
        },
    }
    return json.dumps(envelope).encode()


def command_form(user: str, text: str, *, channel: str, trigger: str) -> bytes:
    """A signed-ready `/ally` slash command form; `channel` D... is the person's DM with us."""
    return form_body(
        {
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "command": "/ally",
            "text": text,
            "trigger_id": trigger,
        }
    ).encode()


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: bytes,
    content_type: str = JSON,
    *,
    retry: int = 0,
) -> tuple[int | str, bytes]:
    """Posts a signed request to `url`/slack/events: (status, body), or (the error's class
    name, b"") when there was no answer (refused, reset: not acknowledged). `retry`: Slack's
    X-Slack-Retry-Num."""
    headers = slack_signed_headers(SECRET, body, content_type=content_type)
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    try:
        async with http.post(f"{url}/slack/events", data=body, headers=headers) as resp:
            return resp.status, await resp.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        return type(exc).__name__, b""


# ----- the database, read directly --------------------------------------------------------


async def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        with sqlite3.connect(path, timeout=30) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]
    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def scalar(db_url: str, sql: str) -> Any:
    return (await query(db_url, sql))[0][0]


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109
    what: str,
) -> float:
    """Polls `check` until it holds; returns the seconds it took."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.2)
    return time.monotonic() - start


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (tests/databases.py), dropped afterwards."""
    if "postgresql" not in BACKENDS:
        pytest.skip("ALLYBOT_TEST_BACKENDS leaves PostgreSQL out")
    url, name = await postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)
