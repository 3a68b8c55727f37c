"""Slack end to end: signed HTTP requests into bolt, Web API calls into a local fake."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.clock import ManualClock
from store.models import InboxEvent, Kudos, ProcessedEvent
from tests.fakes import FakeSlackApi, form_body
from tests.slack_support import CLAP, SlackSystem, start_slack


@pytest_asyncio.fixture
async def slack(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    async for system in start_slack(sqlite_url, fake_slack, clock):
        yield system


async def count(slack: SlackSystem, model: type) -> int:
    async with slack.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_kudos_command_acks_privately_dms_and_posts(slack: SlackSystem) -> None:
    ack = await slack.command("<@U2|bo> thanks for the demo #teamwork", command="/kudos")
    assert ack["response_type"] == "ephemeral"
    assert "Kudos sent to *Bo*" in ack["text"] and "4 of 5 left today" in ack["text"]
    assert await count(slack, Kudos) == 1  # committed before the ack came back
    await slack.deliver()
    dm = slack.sent("chat.postMessage", channel="U2")
    assert len(dm) == 1 and "*Ana* gave you kudos" in dm[0]["text"]
    assert "thanks for the demo #teamwork" in dm[0]["text"]
    public = slack.sent("chat.postMessage", channel="C1")
    assert len(public) == 1 and "gave kudos to <@U2>" in public[0]["text"]
    stats = await slack.command("kudos stats", user="U2")
    assert "received: 1 this week" in stats["text"]
    assert stats["blocks"][0]["type"] == "header"


async def test_help_and_unknown_commands(slack: SlackSystem) -> None:
    help_ = await slack.command("")
    assert help_["blocks"][0]["text"]["text"] == "Allybot commands"
    assert "/ally kudos" in json.dumps(help_["blocks"])
    unknown = await slack.command("kudoz <@U2> hi")
    assert "Did you mean `/ally kudos`?" in unknown["text"]
    usage = await slack.command("kudos <@U2>")
    assert "Say what you're thanking them for" in usage["text"]


async def test_refusals_are_explained(slack: SlackSystem) -> None:
    me = await slack.command("kudos <@U1> me", user="U1")
    assert "yourself" in me["text"]
    bot = await slack.command("kudos <@B9> beep")
    assert "deploybot is a bot" in bot["text"]


async def test_reaction_gives_once_and_removal_takes_back(slack: SlackSystem) -> None:
    added = CLAP
    assert (await slack.event(added, event_id="EvA")).status == 200
    # Slack retries the same delivery when it doubts our ack.
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await slack.event(added, event_id="EvA", headers=retry)).status == 200
    await slack.deliver()
    dms = slack.sent("chat.postMessage", channel="U2")
    assert len(dms) == 1
    assert "https://example.slack.com/archives/C1/p1700000000000100" in dms[0]["text"]
    removed = dict(added, type="reaction_removed")
    assert (await slack.event(removed, event_id="EvB")).status == 200
    await slack.deliver()  # acknowledged at once; applied by the inbox right after
    stats = await slack.command("kudos stats <@U2>")
    assert "received: 0 this week" in stats["text"]


async def test_the_bots_own_reaction_is_ignored(slack: SlackSystem) -> None:
    """Events skip bolt's dispatch at the HTTP door (adapters/slack/app.py `_accept_event`),
    so its self-event rule is ours to keep: the bot's own reaction is no kudos."""
    item = {"type": "message", "channel": "C1", "ts": "1700000000.000300"}
    own = {"type": "reaction_added", "user": "UBOT", "reaction": "clap", "item": item}
    resp = await slack.event(dict(own, item_user="U2"), event_id="EvOwn")
    assert resp.status == 200
    await slack.deliver()
    assert await count(slack, InboxEvent) == 0  # not even taken in
    assert slack.sent("chat.postMessage", channel="U2") == []
    stats = await slack.command("kudos stats <@U2>")
    assert "received: 0 this week" in stats["text"]


async def test_events_go_through_bolt_when_auth_test_fails(slack: SlackSystem) -> None:
    """Without the token's identity the door can't tell the bot's own events: bolt decides."""
    slack.api.fail_next("auth.test", "invalid_auth")
    item = {"type": "message", "channel": "C1", "ts": "1700000000.000400"}
    added = {"type": "reaction_added", "user": "U1", "reaction": "clap", "item": item}
    assert (await slack.event(dict(added, item_user="U2"), event_id="EvNoAuth")).status == 200
    await slack.deliver()
    assert len(slack.sent("chat.postMessage", channel="U2")) == 1


async def test_allowance_used_up_by_reactions_is_told_privately(slack: SlackSystem) -> None:
    for i in range(6):
        item = {"type": "message", "channel": "C1", "ts": f"17000000{i:02d}.000100"}
        await slack.event(
            {
                "type": "reaction_added",
                "user": "U1",
                "reaction": "tada",
                "item": item,
                "item_user": "U2",
                "event_ts": "1",
            }
        )
    await slack.deliver()
    assert len(slack.sent("chat.postMessage", channel="U2")) == 5
    notice = slack.sent("chat.postEphemeral", channel="C1", user="U1")
    assert len(notice) == 1 and "used all 5 kudos" in notice[0]["text"]
    assert "resets at 00:00 CET" in notice[0]["text"]


async def test_dm_and_mention_commands_reply_through_the_web_api(slack: SlackSystem) -> None:
    await slack.event(
        {
            "type": "message",
            "channel": "D1",
            "channel_type": "im",
            "user": "U1",
            "text": "kudos <@U2> thanks for the review",
            "ts": "1700000100.000100",
        }
    )
    await slack.event(
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "U3",
            "text": "<@UBOT> kudos <@U2> great talk",
            "ts": "1700000200.000100",
        }
    )
    await slack.deliver()
    dm_reply = slack.sent("chat.postMessage", channel="D1")
    assert len(dm_reply) == 1 and "Kudos sent to *Bo*" in dm_reply[0]["text"]
    ephemeral = slack.sent("chat.postEphemeral", channel="C1", user="U3")
    assert len(ephemeral) == 1 and "Kudos sent to *Bo*" in ephemeral[0]["text"]
    assert len(slack.sent("chat.postMessage", channel="U2")) == 2


async def test_reason_cannot_ping_or_inject(slack: SlackSystem) -> None:
    await slack.command("kudos <@U2> &lt;!channel&gt; <!here> &lt;https://evil|click&gt; *big*")
    await slack.deliver()
    text = slack.sent("chat.postMessage", channel="C1")[0]["text"]
    assert "<!channel>" not in text and "<!here>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text and "&lt;!here&gt;" in text


async def test_bad_signatures_are_rejected_and_nothing_written(slack: SlackSystem) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": "EvX",
            "event": {
                "type": "reaction_added",
                "user": "U1",
                "reaction": "clap",
                "item": {"type": "message", "channel": "C1", "ts": "1.2"},
                "item_user": "U2",
            },
        }
    )
    forged = await slack.post(body, "application/json", secret="not-the-secret")
    stale = await slack.post(body, "application/json", timestamp=int(time.time()) - 3600)
    headers = {"X-Slack-Signature": "v0=" + "0" * 64}
    tampered = await slack.post(body, "application/json", headers=headers)
    unsigned = await slack.http.post(
        f"{slack.url}/slack/events", data=body, headers={"Content-Type": "application/json"}
    )
    assert [forged.status, stale.status, tampered.status, unsigned.status] == [401] * 4
    assert await count(slack, ProcessedEvent) == 0 and await count(slack, Kudos) == 0


async def test_malformed_bodies_get_400(slack: SlackSystem) -> None:
    for body, content_type in [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("payload=%7Bbad", "application/x-www-form-urlencoded"),
        ("hello=world", "application/x-www-form-urlencoded"),
        ("<xml/>", "text/xml"),
    ]:
        resp = await slack.post(body, content_type)
        assert resp.status == 400, (body, resp.status)
        assert "error" in json.loads(await resp.read())
    assert await count(slack, ProcessedEvent) == 0


async def test_unknown_event_types_are_acknowledged_and_logged(
    slack: SlackSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    resp = await slack.event({"type": "emoji_changed", "subtype": "add", "name": "x"})
    assert resp.status == 200
    assert "ignored Slack event type 'emoji_changed'" in caplog.text


async def test_rate_limited_send_is_retried(slack: SlackSystem) -> None:
    slack.api.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    await slack.command("kudos <@U2> thanks", channel="D1")
    await slack.deliver()
    assert len(slack.sent("chat.postMessage", channel="U2")) == 1
    to_bo = [c for c in slack.api.calls_to("chat.postMessage") if c.args.get("channel") == "U2"]
    assert [c.status for c in to_bo] == [429, 200]


def _reference_bodies(slack_ref: Path) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    samples = slack_ref / "java-slack-sdk-json-samples"
    paths = sorted((slack_ref / "payloads").rglob("*")) + sorted(samples.rglob("*.json"))
    for path in paths:
        if path.suffix == ".json" and "parsed" not in path.name:
            data = json.loads(path.read_text())
            if data.get("type") == "" and "event" in data:  # the samples blank every value
                data["type"] = "event_callback"
            if "inner_event" in path.name:  # published without its envelope
                data = {
                    "type": "event_callback",
                    "team_id": "T111",
                    "event_id": "EvInner",
                    "event_time": 1,
                    "event": data,
                }
            if "command" in data and "type" not in data:  # a slash command, sent as a form
                out.append((path.name, form_body(data), "application/x-www-form-urlencoded"))
            elif data.get("type") in (
                "block_actions",
                "view_submission",
                "shortcut",
                "message_action",
            ):
                from urllib.parse import urlencode

                out.append(
                    (
                        path.name,
                        urlencode({"payload": json.dumps(data)}),
                        "application/x-www-form-urlencoded",
                    )
                )
            else:
                out.append((path.name, json.dumps(data), "application/json"))
        elif path.name.endswith(".form-urlencoded.txt"):
            out.append((path.name, path.read_text().strip(), "application/x-www-form-urlencoded"))
    return out


async def test_every_reference_payload_is_handled(
    slack: SlackSystem, reference: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = _reference_bodies(reference / "slack")
    assert len(bodies) >= 30
    for name, body, content_type in bodies:
        resp = await slack.post(body, content_type)
        assert resp.status == 200, (name, resp.status, await resp.text())
        if "url_verification" in name:
            assert json.loads(await resp.read())["challenge"]
    await slack.deliver()
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text


async def test_healthz_reports_platforms(slack: SlackSystem) -> None:
    resp = await slack.http.get(f"{slack.url}/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "platforms": ["slack"]}


async def test_socket_mode_is_used_when_an_app_token_is_set(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> None:
    from adapters.runtime import build_runtime
    from tests.slack_support import slack_settings

    settings = slack_settings(sqlite_url, fake_slack, SLACK_APP_TOKEN="xapp-1-test")
    runtime = await build_runtime(settings, clock=clock, run_worker=False)
    try:
        assert runtime.socket_mode is not None
        assert runtime.socket_mode.app is not None
        # The same bolt app serves both transports; HTTP is not exposed in Socket Mode.
        routes = {r.resource.canonical for r in runtime.app.router.routes()}  # type: ignore[union-attr]
        assert "/slack/events" not in routes and "/healthz" in routes
    finally:
        await runtime.close()


async def test_a_kudos_that_earns_a_badge_reads_home_users_once(slack: SlackSystem) -> None:
    """A first kudos changes both people's recognition and earns the giver a badge: two
    changes to their home views, one read of who uses one; both views are refreshed."""
    from sqlalchemy import event as sa_event

    for uid in ("U1", "U2"):
        opened = {"type": "app_home_opened", "user": uid, "channel": f"D{uid}", "tab": "home"}
        assert (await slack.event({**opened, "event_ts": "1700000300.000100"})).status == 200
    await slack.deliver()
    views_before = {u: len(slack.sent("views.publish", user_id=u)) for u in ("U1", "U2")}
    reads: list[str] = []

    def counted(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if "FROM member_preferences" in sql and "home_opened_at IS NOT NULL" in sql:
            reads.append(sql)

    engine = slack.runtime.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", counted)
    try:
        assert (await slack.event(CLAP)).status == 200
        await slack.deliver()
    finally:
        sa_event.remove(engine, "before_cursor_execute", counted)
    assert any("You earned" in json.dumps(m) for m in slack.sent("chat.postMessage", channel="U1"))
    assert len(reads) == 1, reads
    for uid in ("U1", "U2"):  # refreshed: the kudos (and, for U1, the badge) since
        assert len(slack.sent("views.publish", user_id=uid)) > views_before[uid]


async def test_app_home_is_published_and_kept_fresh(slack: SlackSystem) -> None:
    opened = {
        "type": "app_home_opened",
        "user": "U2",
        "channel": "D2",
        "tab": "home",
        "event_ts": "1700000300.000100",
    }
    assert (await slack.event(opened)).status == 200
    await slack.deliver()
    (first,) = slack.sent("views.publish", user_id="U2")
    view = first["view"]
    assert view["type"] == "home" and view["blocks"][0]["text"]["text"] == "Hi Bo 👋"
    assert "0 received · 0 given" in json.dumps(view, ensure_ascii=False)
    buttons = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["home:kudos", "home:leaderboard", "home:profile", "nudge:home"]
    # Someone thanks Bo: his home view is refreshed with the new numbers.
    await slack.command("kudos <@U2> thanks for the review")
    await slack.deliver()
    views = slack.sent("views.publish", user_id="U2")
    assert len(views) == 2 and "1 received · 0 given" in json.dumps(
        views[1]["view"], ensure_ascii=False
    )
    # Ana never opened her home tab: nothing is published for her.
    assert slack.sent("views.publish", user_id="U1") == []
    # A button in the home view answers in the DM with the bot.
    action = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": "U2"},
        "trigger_id": "t-home",
        "container": {"type": "view", "view_id": "V1"},
        "actions": [
            {
                "action_id": "home:leaderboard",
                "block_id": "b",
                "value": "",
                "type": "button",
                "action_ts": "1700000400.1",
            }
        ],
    }
    assert (await slack.action(action)).status == 200
    await slack.deliver()
    board = slack.sent("chat.postMessage", channel="U2")[-1]
    assert "Kudos received this month" in board["text"] and "*Bo*" in board["text"]
