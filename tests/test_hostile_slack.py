"""Hostile and malformed input on /slack/events (issue 12): never a 5xx, and a 400 writes nothing.

Each reproducer from the issue is one case below, sent correctly signed through the real aiohttp
application, slack-bolt and the core (tests/slack_support.py), on SQLite.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from aiohttp import ClientResponse

from adapters.slack import edge
from bot.clock import ManualClock
from tests.fakes import FakeSlackApi, form_body
from tests.hostile import leaks, row_counts
from tests.slack_support import CLAP, SECRET, TEAM, SlackSystem, start_slack
from tests.test_slack_e2e import _reference_bodies

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest_asyncio.fixture
async def slack(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    async for system in start_slack(sqlite_url, fake_slack, clock):
        yield system


def envelope(event: Any, **top: Any) -> str:
    body = {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
        "event": event,
    }
    body.update(top)
    return json.dumps(body)


REACTION = CLAP


def block_actions(**over: Any) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U1", "team_id": TEAM},
        "trigger_id": "trig-1",
        "channel": {"id": "C1"},
        "container": {"type": "message", "channel_id": "C1", "message_ts": "1700000000.000100"},
        "actions": [{"action_id": "home:kudos", "value": "", "action_ts": "1700000001.1"}],
    }
    payload.update(over)
    return urlencode({"payload": json.dumps(payload)})


def view_submission(changes: dict[str, Any], **over: Any) -> str:
    base_view: dict[str, Any] = {
        "id": "V1",
        "type": "modal",
        "hash": "h1",
        "callback_id": "feedback",
        "team_id": TEAM,
        "private_metadata": json.dumps({"c": "C1", "s": ""}),
        "state": {"values": {}},
        "blocks": [],
    }
    base_view.update(changes)
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": "U1"},
        "view": base_view,
    }
    payload.update(over)
    return urlencode({"payload": json.dumps(payload)})


def command(**over: str) -> str:
    fields = {
        "team_id": TEAM,
        "channel_id": "C1",
        "user_id": "U1",
        "command": "/ally",
        "text": "help",
        "trigger_id": "t1",
    }
    fields.update(over)
    return form_body(fields)


# Every reproducer of issue 12 that is a correctly signed body of the wrong shape.
WRONG_SHAPES: list[tuple[str, str, str]] = [
    ("block_actions with actions: []", block_actions(actions=[]), FORM),
    ('block_actions with actions: ["x"]', block_actions(actions=["x"]), FORM),
    ("block_actions with an action that is a number", block_actions(actions=[7]), FORM),
    ("authorizations as a string", envelope(REACTION, authorizations="T1"), JSON),
    ("authorizations holding a string", envelope(REACTION, authorizations=["T1"]), JSON),
    ("team as a string (interactive)", block_actions(team="T1"), FORM),
    ("team as a string (event)", envelope(REACTION, team="T1"), JSON),
    ("event: null", envelope(None), JSON),
    ("event as a list", envelope([REACTION]), JSON),
    ("event user as a number", envelope({**REACTION, "user": 42}), JSON),
    ("event user as an object", envelope({**REACTION, "user": {"id": "U1"}}), JSON),
    ("block_actions user as a number", block_actions(user=42), FORM),
    ("block_actions user as a string", block_actions(user="U1"), FORM),
    ("channel as a string", block_actions(channel="C1"), FORM),
    ("item as a string", envelope({**REACTION, "item": "C1"}), JSON),
    ("private_metadata as a number", view_submission({"private_metadata": 7}), FORM),
    ("private_metadata as an object", view_submission({"private_metadata": {"c": "C1"}}), FORM),
    (
        "private_metadata channel as a number",
        view_submission({"private_metadata": json.dumps({"c": 5, "s": ""})}),
        FORM,
    ),
    (
        "private_metadata state as a list",
        view_submission({"private_metadata": json.dumps({"c": "C1", "s": [1]})}),
        FORM,
    ),
    (
        "private_metadata nested 100,000 deep",
        view_submission({"private_metadata": "[" * 100_000 + "]" * 100_000}),
        FORM,
    ),
    (
        "private_metadata nested 500 deep",
        view_submission({"private_metadata": '{"c": "C1", "x": ' + "[" * 500 + "]" * 500 + "}"}),
        FORM,
    ),
    ("view.state.values as a list", view_submission({"state": {"values": [1]}}), FORM),
    ("view.state.values as a string", view_submission({"state": {"values": "x"}}), FORM),
    (
        "view.state.values holding strings",
        view_submission({"state": {"values": {"text": "hello"}}}),
        FORM,
    ),
    (
        "view.state.values element as a string",
        view_submission({"state": {"values": {"text": {"value": "hello"}}}}),
        FORM,
    ),
    ("view_submission without a view", view_submission({}, view=None), FORM),
    ("view_submission view without a type", view_submission({"type": None}), FORM),
    ("callback_id as a number", block_actions(type="message_action", callback_id=5), FORM),
    ("workflow_step_edit without its step", block_actions(type="workflow_step_edit"), FORM),
    ("event_time of 1e20", envelope(REACTION, event_time=1e20), JSON),
    ("event_time negative", envelope(REACTION, event_time=-1), JSON),
    ("event_time as a string", envelope(REACTION, event_time="soon"), JSON),
    ("event_ts of 1e20", envelope({**REACTION, "event_ts": "1e20"}), JSON),
    ("event_ts in Arabic-Indic digits", envelope({**REACTION, "event_ts": "\u0661\u0662"}), JSON),
    ("action_ts of 1e20", block_actions(actions=[{"action_id": "a", "action_ts": "1e20"}]), FORM),
    ("type missing", json.dumps({"event": REACTION}), JSON),
    ("type as a number", json.dumps({"type": 1}), JSON),
    ("a JSON array", "[1, 2]", JSON),
    ("NUL in a JSON string", envelope({**REACTION, "reaction": "cl\u0000ap"}), JSON),
    ("lone surrogate in a JSON string", envelope(REACTION).replace("clap", "\\ud800"), JSON),
    ("NUL in a command", command(text="kudos \x00"), FORM),
    ("payload field not JSON", "payload=%7Bbad", FORM),
    ("neither command nor payload", "hello=world", FORM),
    ("XML", "<xml/>", "text/xml"),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type"), WRONG_SHAPES, ids=[w[0] for w in WRONG_SHAPES]
)
async def test_wrong_shapes_get_400_and_write_nothing(
    slack: SlackSystem, name: str, body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = await row_counts(slack.runtime.db)
    with caplog.at_level(logging.WARNING):
        resp = await slack.post(body, content_type)
    text = await resp.text()
    assert resp.status == 400, (name, resp.status, text)
    assert set(json.loads(text)) == {"error"} and not leaks(text)
    assert "rejected a malformed Slack request" in caplog.text  # the log line
    await slack.deliver()
    assert await row_counts(slack.runtime.db) == before
    assert slack.api.calls_to("chat.postMessage") == []


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
async def test_deep_nesting_gets_400(slack: SlackSystem, depth: int) -> None:
    before = await row_counts(slack.runtime.db)
    deep_event = json.dumps({"type": "event_callback", "event": REACTION, "x": "@"}).replace(
        '"@"', nested(depth)
    )
    deep_payload = urlencode({"payload": nested(depth)})
    for body, content_type in [(nested(depth), JSON), (deep_event, JSON), (deep_payload, FORM)]:
        resp = await slack.post(body, content_type)
        text = await resp.text()
        # The deepest form is over the body limit: 413, also before any parsing.
        assert resp.status in (400, 413), (depth, content_type, text[:200])
        assert "nests deeper" in text or "body size" in text
    assert await row_counts(slack.runtime.db) == before


async def test_depth_limit_leaves_real_payloads_room(slack: SlackSystem) -> None:
    # 40 levels of Block Kit-like nesting inside a real envelope still passes.
    deep = {"type": "event_callback", "event": REACTION, "team_id": TEAM, "event_id": "EvDeep"}
    inner: dict[str, Any] = deep
    for _ in range(40):
        inner["x"] = {}
        inner = inner["x"]
    resp = await slack.post(json.dumps(deep), JSON)
    assert resp.status == 200, await resp.text()


async def post_bytes(slack: SlackSystem, body: bytes, content_type: str) -> ClientResponse:
    """Signs raw bytes the way Slack would; slack_sdk's own signer only takes UTF-8."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    resp = await slack.http.post(f"{slack.url}/slack/events", data=body, headers=headers)
    await resp.read()
    return resp


async def test_non_utf8_and_other_charsets_get_400_before_the_signature(
    slack: SlackSystem,
) -> None:
    before = await row_counts(slack.runtime.db)
    latin1 = "command=/ally&text=caf\xe9".encode("latin-1")
    # No signature at all: rejected for its encoding, with a 400, before any secret is used.
    unsigned = await slack.http.post(
        f"{slack.url}/slack/events", data=latin1, headers={"Content-Type": FORM}
    )
    assert unsigned.status == 400 and "UTF-8" in await unsigned.text()
    signed = await post_bytes(slack, latin1, FORM)
    assert signed.status == 400
    utf16 = await post_bytes(
        slack, envelope(REACTION).encode("utf-16"), "application/json; charset=utf-16"
    )
    assert utf16.status == 400 and "charset" in await utf16.text()
    # A UTF-8 body that merely claims UTF-16 is refused too: bolt would decode it as UTF-16.
    claims = await slack.post(envelope(REACTION), "application/json; charset=utf-16")
    assert claims.status == 400
    explicit_utf8 = await slack.post(envelope(REACTION), "application/json; charset=UTF-8")
    assert explicit_utf8.status == 200
    await slack.deliver()
    after = await row_counts(slack.runtime.db)
    # Only the one explicit UTF-8 reaction was written.
    assert after["kudos"] == before["kudos"] + 1


async def test_odd_signature_headers_get_401_not_500(slack: SlackSystem) -> None:
    body = envelope(REACTION)
    cases = [
        {"X-Slack-Request-Timestamp": "\u00b2", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "1e20", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=é"},
        {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=abc"},
    ]
    for headers in cases:
        resp = await slack.http.post(
            f"{slack.url}/slack/events",
            data=body.encode(),
            headers={"Content-Type": JSON, **headers},
        )
        assert resp.status == 401, (headers, resp.status)


async def test_body_size_is_bounded(slack: SlackSystem) -> None:
    big = command(text="x" * (1024 * 1024 + 10))
    resp = await slack.post(big, FORM)
    assert resp.status == 413
    assert (await row_counts(slack.runtime.db))["kudos"] == 0


@pytest.mark.parametrize(
    "text",
    ["config allowance \u00b2", "badge rule appreciated kudos_given \u2460", "config allowance ١٢"],
)
async def test_unicode_digits_in_commands_get_a_specific_message(
    slack: SlackSystem, text: str
) -> None:
    answer = await slack.command(text)
    assert "whole number" in answer["text"], answer
    assert not leaks(json.dumps(answer))


def test_every_reference_payload_passes_the_validator(reference: Path) -> None:
    bodies = _reference_bodies(reference / "slack")
    assert len(bodies) >= 30
    for name, body, content_type in bodies:
        edge.check_payload(body, content_type)  # raises Rejected on a false alarm
        # The same body, as the wire carries it, decodes as UTF-8.
        assert edge.check_encoding(body.encode(), "utf-8") == body, name


async def test_valid_shapes_still_work_after_the_edge(slack: SlackSystem) -> None:
    """The happy paths the reproducers were cut from: a reaction, a button, a command."""
    assert (await slack.post(envelope(REACTION), JSON)).status == 200
    assert (await slack.post(block_actions(), FORM)).status == 200
    answer = await slack.command("config allowance 3")
    assert "3" in answer["text"]
    await slack.deliver()
    assert len(slack.sent("chat.postMessage", channel="U2")) == 1


async def test_a_command_mentioning_payload_is_still_a_command(slack: SlackSystem) -> None:
    # bolt parses any form body containing the text "payload" as an interactive payload.
    answer = await slack.command("feedback the webhook payload is wrong")
    assert "FB-1" in answer["text"], answer


MENTION = {
    "type": "app_mention",
    "user": "U1",
    "text": "<@UBOT> kudos <@U2> thanks",
    "channel": "C1",
    "ts": "1700000100.000100",
    "event_ts": "1700000100.000100",
}
NOWHERE = [
    ("app_mention without a channel", {k: v for k, v in MENTION.items() if k != "channel"}),
    ("app_mention with an empty channel", {**MENTION, "channel": ""}),
    ("app_mention without a ts", {k: v for k, v in MENTION.items() if k != "ts"}),
    ("DM without a channel", {**MENTION, "type": "message", "channel_type": "im", "channel": None}),
    ("reaction without item.channel", {**REACTION, "item": {"type": "message", "ts": "1.2"}}),
    ("reaction without item.ts", {**REACTION, "item": {"type": "message", "channel": "C1"}}),
    ("join without a channel", {"type": "member_joined_channel", "user": "U1"}),
]


@pytest.mark.parametrize(("name", "event"), NOWHERE, ids=[n for n, _ in NOWHERE])
async def test_an_event_naming_no_channel_is_ignored_not_answered_nowhere(
    slack: SlackSystem, name: str, event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzzer: an app_mention without a channel was answered in channel "", Slack
    said channel_not_found, and the reply's job gave up with an ERROR. Acknowledged (a signed
    request: Slack would only send it again) and ignored, with a warning; nothing is written."""
    before = await row_counts(slack.runtime.db)
    with caplog.at_level(logging.WARNING):
        resp = await slack.post(envelope(event), JSON)
        await slack.deliver()
    assert resp.status == 200, (name, await resp.text())
    assert "ignored a Slack" in caplog.text and "without its" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert slack.sent("chat.postMessage") == [] and slack.sent("chat.postEphemeral") == []
    assert await row_counts(slack.runtime.db) == before


async def test_the_same_mention_with_its_channel_is_answered(slack: SlackSystem) -> None:
    assert (await slack.post(envelope(MENTION), JSON)).status == 200
    await slack.deliver()
    assert slack.sent("chat.postMessage") or slack.sent("chat.postEphemeral")
