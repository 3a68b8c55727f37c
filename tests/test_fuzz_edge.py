"""Property-based fuzzing of both public endpoints, through the real application (issue 12).

One `allybot serve`-like system runs for the whole module in a thread of its own, on loopback:
the aiohttp application from `adapters/server.py`, with the real slack-bolt and botbuilder
handlers, the core and the store on SQLite, and the fake Slack Web API and Bot Connector. The
tests are plain synchronous hypothesis tests that POST to it with `http.client`, so examples
shrink normally. Generated: Slack event bodies, slash-command forms, interactivity payloads,
Teams activities and command text, built from real payloads (tests/fixtures) and then bent.

For every example:
- no 5xx, and no traceback or exception name in the response body;
- nothing logged at ERROR (and no logged exception) while handling it or applying what it queued;
- a 4xx writes nothing (inbox, processed events, kudos, jobs, members, workspaces unchanged);
- the commands' answers are never the "something went wrong" apology;
and at the end of each test the process still answers /healthz.

Profiles: ALLYBOT_FUZZ=ci (the default: 150 examples per test, 750 in all, about 20 s on 2
cores) or ALLYBOT_FUZZ=long (3,000 per test, about 6 minutes; by hand):
`ALLYBOT_FUZZ=long pytest tests/test_fuzz_edge.py --hypothesis-show-statistics`.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import START
from tests.databases import sqlite_database
from tests.fakes import FakeBotConnector, FakeSlackApi
from tests.hostile import leaks
from tests.test_buttons import KNOWN, declared_buttons

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "fuzz-signing-secret"
TEAM = "T0001"
TENANT = "tenant-1"
BOT = "28:allybot-app"
SORRY = "something went wrong"

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,  # a shared, noisy machine: time is asserted by the suite's budget instead
    database=None,  # no .hypothesis folder in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile(os.environ.get("ALLYBOT_FUZZ", "ci"))


# ----- the system under test, in a thread of its own -------------------------------------------


class _Errors(logging.Handler):
    """Every ERROR (or logged exception) from anywhere in the process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


COUNTED = ("inbox", "processed_events", "kudos", "jobs", "members", "workspaces")


class System:
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzzed", daemon=True)
        self.thread.start()
        self.errors = _Errors()
        logging.getLogger().addHandler(self.errors)
        self.call(self._start(tmp))

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self, tmp: Path) -> None:
        self.slack_api = await FakeSlackApi().__aenter__()
        for uid, name in (("U1", "Ana"), ("U2", "Bo"), ("U3", "Cy")):
            self.slack_api.add_user(uid, name, real_name=f"{name} Test", tz="Europe/Paris")
        self.slack_api.add_user("B9", "deploybot", is_bot=True)
        self.connector = await FakeBotConnector().__aenter__()
        config = Settings(  # type: ignore[call-arg]
            DATABASE_URL=await sqlite_database(tmp),
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.slack_api.url,
            TEAMS_ENABLED=True,
            MICROSOFT_APP_ID="",
            ALLYBOT_ADMINS="U1,29:ana",
            _env_file=None,
        )
        self.runtime: Runtime = await build_runtime(
            config, clock=ManualClock(START), run_worker=False
        )
        self.runner = web.AppRunner(self.runtime.app, shutdown_timeout=1.0, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = int(self.runner.addresses[0][1])

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.runtime.close()
        await self.connector.__aexit__(None, None, None)
        await self.slack_api.__aexit__(None, None, None)

    def close(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _counts(self) -> dict[str, int]:
        sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in COUNTED)
        async with self.runtime.db.transaction() as session:
            row = (await session.execute(text(sql))).one()
        return dict(zip(COUNTED, (int(v) for v in row), strict=True))

    def counts(self) -> dict[str, int]:
        return self.call(self._counts())

    def run_due(self) -> None:
        """Applies what was queued (the inbox's events, deliveries): translation runs there too."""
        self.call(self.runtime.core.run_due())

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def slack(self, body: bytes, content_type: str) -> tuple[int, str]:
        ts = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        }
        status, answer = self.request("POST", "/slack/events", body, headers)
        return int(status), str(answer)

    def teams(self, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
        status, answer = self.request("POST", "/api/messages", body, {"Content-Type": content_type})
        return int(status), str(answer)

    def check(self, send: Any) -> tuple[int, str]:
        """Sends one example and checks every property that holds for any input."""
        replies_before = len(self.connector.calls)
        self.errors.records.clear()
        before = self.counts()
        status, answer = send()
        event(f"HTTP {status}")  # --hypothesis-show-statistics shows how often each came back
        assert status < 500, (status, answer[:500])
        assert not leaks(answer), answer[:500]
        assert SORRY not in answer, answer[:500]
        if status >= 400:
            assert self.counts() == before, "a refused request wrote something"
        self.run_due()
        for call in self.connector.calls[replies_before:]:
            sent = json.dumps(getattr(call, "body", None) or {})
            assert SORRY not in sent and not leaks(sent), sent[:500]
        problems = [f"{r.name}: {r.getMessage()}" for r in self.errors.records]
        assert not problems, problems
        return status, answer

    def alive(self) -> None:
        status, answer = self.request("GET", "/healthz", b"", {})
        assert status == 200 and "ok" in answer
        assert self.thread.is_alive()


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    running = System(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.alive()
    running.close()


# ----- what gets generated ---------------------------------------------------------------------

# Strings chosen to hurt: other scripts' digits, NUL, a lone surrogate, bidi overrides, Slack and
# Teams markup, CRLF, huge numbers, and JSON/HTML metacharacters.
NASTY = [
    "",
    " ",
    "\u00b2",
    "\u2460",
    "\u0661\u0662",
    "\U0001d7d3",
    "\x00",
    "\ud800",
    "\u202e",
    "\r\n",
    "9" * 40,
    "1e20",
    "-1",
    "<@U1>",
    "<@U2|bo>",
    "<!channel>",
    "<#C1|general>",
    "<at>Bo</at>",
    "&lt;@U1&gt;",
    '"',
    "“",
    "{}",
    "[]",
    "null",
    "ána-日本",
    "x" * 300,
]
strings = st.text(max_size=40) | st.sampled_from(NASTY)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | strings
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=8,
)

WORDS = [
    "kudos", "stats", "help", "config", "allowance", "kudos-channel", "kudos-reactions",
    "recognition-channel", "timezone", "Europe/Paris", "role", "roles", "add", "remove", "admin",
    "curator", "community-manager", "whoami", "badge", "badges", "show", "give", "revoke",
    "create", "edit", "retire", "restore", "rule", "off", "here", "appreciated", "first-kudos",
    "kudos_received", "kudos_given", "leaderboard", "received", "given", "week", "month",
    "quarter", "all", "team", "profile", "rewards", "swag", "privacy", "on", "announce", "home",
    "feedback", "status", "ack", "vote", "list", "open", "mine", "FB-1", "FB-²", "assign", "me",
    "note", "category", "docs", "export", "since", "2026-01-01", "anonymous", "question",
    "review", "#teamwork", "thanks", "for", "the", "demo", "payload", "1", "5", "1000", "0",
]  # fmt: skip
command_text = st.lists(
    st.sampled_from(WORDS) | st.sampled_from(NASTY) | st.text(max_size=8), max_size=7
).map(" ".join)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _slack_references() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events, interactive = [], []
    for path in sorted((FIXTURES / "slack").rglob("*.json")):
        if "schema" in str(path) or "openapi" in str(path):
            continue
        data = _load(path)
        if not isinstance(data, dict):
            continue
        if data.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
            interactive.append(data)
        elif "event" in data:
            events.append({**data, "type": data.get("type") or "event_callback"})
    return events, interactive


SLACK_EVENTS, SLACK_INTERACTIVE = _slack_references()
TEAMS_ACTIVITIES = [
    a
    for a in (_load(p) for p in sorted((FIXTURES / "teams" / "activities").rglob("*.json")))
    if isinstance(a, dict) and "type" in a
]


@st.composite
def bent(draw: st.DrawFn, base: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """`base` with a few values replaced, removed or added, anywhere in the tree."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        node: Any = doc
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            keys = (
                [k for k, v in node.items() if isinstance(v, dict | list)]
                if isinstance(node, dict)
                else [i for i, v in enumerate(node) if isinstance(v, dict | list)]
            )
            if not keys:
                break
            node = node[draw(st.sampled_from(keys))]
        if isinstance(node, dict):
            keys = [k for k in node if not (node is doc and k in keep)]
            action = draw(st.sampled_from(["set", "drop", "add"] if keys else ["add"]))
            if action == "add":
                node[draw(strings)] = draw(json_values)
            elif action == "drop":
                del node[draw(st.sampled_from(keys))]
            else:
                node[draw(st.sampled_from(keys))] = draw(json_values)
        elif isinstance(node, list):
            if node and draw(st.booleans()):
                node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
            else:
                node.append(draw(json_values))
    return doc


def reaction_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda user, author, emoji, kind: {
            "type": kind,
            "user": user,
            "reaction": emoji,
            "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
            "item_user": author,
            "event_ts": "1700000001.000200",
        },
        st.sampled_from(["U1", "U2", "U3", "B9"]),
        st.sampled_from(["U1", "U2", "U3", "B9"]),
        st.sampled_from(["clap", "tada", "memo", "x"]),
        st.sampled_from(["reaction_added", "reaction_removed"]),
    )


def message_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda user, words, kind, channel: {
            "type": kind,
            "user": user,
            "text": words,
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "ts": "1700000100.000100",
            "event_ts": "1700000100.000100",
        },
        st.sampled_from(["U1", "U2"]),
        command_text,
        st.sampled_from(["message", "app_mention"]),
        st.sampled_from(["D1", "C1"]),
    )


def envelope(event: Any) -> dict[str, Any]:
    return {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": 1700000000,
        "event": event,
    }


slack_event_bodies = (
    (reaction_event() | message_event()).map(envelope).flatmap(bent)
    | st.sampled_from(SLACK_EVENTS).flatmap(bent)
    | json_values.map(lambda v: envelope(v))
)


@given(body=slack_event_bodies, raw=st.booleans(), junk=st.binary(max_size=64))
@FUZZ
def test_fuzz_slack_event_bodies(system: System, body: Any, raw: bool, junk: bytes) -> None:
    if raw:  # whatever bytes, as JSON
        system.check(lambda: system.slack(junk, "application/json"))
    else:
        payload = json.dumps(body).encode()
        system.check(lambda: system.slack(payload, "application/json"))


def storable(value: str) -> bool:
    """Text the edge lets in: no NUL, no lone surrogate (those are a 400 by design)."""
    return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _quote(value: str, safe: str, encoding: str | None, errors: str | None) -> str:
    # Percent-encodes lone surrogates too, as a sloppy client would, instead of failing here.
    return quote(value, safe, "utf-8", "surrogatepass")


def command_form(text_: str, user: str, command: str, channel: str) -> dict[str, str]:
    return {
        "token": "x",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text_,
        "trigger_id": f"trig-{time.monotonic_ns()}",
    }


command_forms = st.builds(
    command_form,
    command_text,
    st.sampled_from(["U1", "U2", "U3"]),
    st.sampled_from(["/ally", "/kudos", "/feedback", "/unknown"]),
    st.sampled_from(["C1", "D1"]),
)


@given(
    form=command_forms,
    bend=st.dictionaries(st.sampled_from(["team_id", "user_id", "text", "x"]), strings, max_size=2),
    drop=st.sets(st.sampled_from(["team_id", "user_id", "command", "text", "trigger_id"])),
    raw=st.none() | st.text(max_size=60),
)
@FUZZ
def test_fuzz_slash_command_forms(
    system: System, form: dict[str, str], bend: dict[str, str], drop: set[str], raw: str | None
) -> None:
    if raw is not None:  # a form body of any text, percent-encoded or not
        body = raw.encode("utf-8", "surrogatepass")
    else:
        form.update(bend)
        for name in drop:
            form.pop(name, None)
        body = urlencode(form, quote_via=_quote).encode()
    status, answer = system.check(lambda: system.slack(body, "application/x-www-form-urlencoded"))
    if raw is None and not drop and not bend and storable(form["text"]):
        assert status == 200, answer  # a well-formed command is always answered


def block_action(action_id: str, value: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": f"trig-{time.monotonic_ns()}",
        "container": {"type": "view", "view_id": "V1"},
        "actions": [
            {"action_id": action_id, "block_id": "b", "value": value, "action_ts": "1700000001.1"}
        ],
    }


def view_submission(text_: str, anonymous: str, user: str) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user},
        "view": {
            "id": f"V{time.monotonic_ns()}",
            "hash": "h",
            "type": "modal",
            "callback_id": "feedback:new",
            "team_id": TEAM,
            "private_metadata": json.dumps({"c": "C1", "s": json.dumps({"key": "k"})}),
            "state": {
                "values": {
                    "text": {"value": {"type": "plain_text_input", "value": text_}},
                    "anonymous": {
                        "value": {"type": "static_select", "selected_option": {"value": anonymous}}
                    },
                }
            },
            "blocks": [{"block_id": "text"}, {"block_id": "anonymous"}],
        },
    }


def shortcut(callback: str, message_text: str, user: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "team": {"id": TEAM},
        "user": {"id": user},
        "channel": {"id": "C1"},
        "callback_id": callback,
        "trigger_id": f"trig-{time.monotonic_ns()}",
        "message_ts": "1700000000.000100",
        "message": {"type": "message", "user": "U2", "text": message_text, "ts": "1700000000.1"},
    }


users = st.sampled_from(["U1", "U2", "U3"])
# Every button a card can carry, but those with a known crash (listed, xfail, in test_buttons).
ACTION_IDS = sorted(set(declared_buttons()) - set(KNOWN))
interactive_payloads = (
    st.builds(
        block_action,
        st.sampled_from(ACTION_IDS) | strings,
        strings | st.sampled_from(["1", "2"]),
        users,
    )
    | st.builds(view_submission, command_text, st.sampled_from(["yes", "no"]) | strings, users)
    | st.builds(
        shortcut, st.sampled_from(["send_as_feedback", "give_kudos"]) | strings, strings, users
    )
).flatmap(bent) | st.sampled_from(SLACK_INTERACTIVE).flatmap(bent)


@given(payload=interactive_payloads)
@FUZZ
def test_fuzz_interactivity_payloads(system: System, payload: dict[str, Any]) -> None:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    system.check(lambda: system.slack(body, "application/x-www-form-urlencoded"))


def personal(system: System, words: str, sender: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"1700{time.monotonic_ns()}",
        "channelId": "msteams",
        "serviceUrl": system.connector.url,
        "from": {"id": sender, "name": sender[3:].title(), "aadObjectId": f"aad-{sender}"},
        "recipient": {"id": BOT, "name": "Allybot"},
        "conversation": {
            "conversationType": "personal",
            "id": f"a:dm-{sender}",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
        "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Paris"}],
        "text": words,
        "textFormat": "plain",
        "locale": "en-US",
    }


@st.composite
def teams_activities(draw: st.DrawFn, system: System) -> dict[str, Any]:
    sender = draw(st.sampled_from(["29:ana", "29:bo", "29:cy"]))
    base = personal(system, draw(command_text), sender)
    kind = draw(st.sampled_from(["message", "card", "reaction", "update", "invoke", "reference"]))
    if kind == "card":
        action_id = draw(st.sampled_from(ACTION_IDS) | strings)
        base.update(text="", value={"action_id": action_id, "value": draw(json_values)})
    elif kind == "reaction":
        base.update(type="messageReaction", replyToId="1700000000999")
        base["reactionsAdded"] = [{"type": draw(st.sampled_from(["like", "heart"]) | strings)}]
    elif kind == "update":
        base.update(type="conversationUpdate", membersAdded=[{"id": "29:dee", "name": "Dee"}])
    elif kind == "invoke":
        base.update(
            type="invoke",
            name=draw(st.sampled_from(["composeExtension/submitAction", "task/fetch"]) | strings),
            value={
                "commandId": draw(st.sampled_from(["giveKudos", "sendAsFeedback"]) | strings),
                "data": draw(json_values),
                "messagePayload": {"id": "1700000000123", "from": {"user": {"id": "aad-bo"}}},
            },
        )
    elif kind == "reference":
        base = copy.deepcopy(draw(st.sampled_from(TEAMS_ACTIVITIES)))
    activity = draw(bent(base, keep=("serviceUrl",)))
    activity["serviceUrl"] = system.connector.url  # auth is off: a stranger's URL is not tested
    return activity


@given(data=st.data())
@FUZZ
def test_fuzz_teams_activities(system: System, data: st.DataObject) -> None:
    activity = data.draw(teams_activities(system))
    body = json.dumps(activity).encode()
    system.check(lambda: system.teams(body))


@given(words=command_text, sender=st.sampled_from(["29:ana", "29:bo"]))
@FUZZ
def test_fuzz_command_text_on_teams(system: System, words: str, sender: str) -> None:
    body = json.dumps(personal(system, words, sender)).encode()
    status, answer = system.check(lambda: system.teams(body))
    assert status == 200 or not storable(words), answer


def test_the_process_is_alive_after_the_fuzzing(system: System) -> None:
    system.alive()
