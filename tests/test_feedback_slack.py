"""Feedback on Slack end to end: signed requests into bolt, Web API calls into the local fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeSlackApi
from tests.slack_support import TEAM, SlackSystem, start_slack

TS = "1700000000.000100"


@pytest_asyncio.fixture
async def slack(
    sqlite_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    async for system in start_slack(sqlite_url, fake_slack, clock):
        await system.command("config feedback-channel <#C9|triage>")
        yield system


def shortcut(trigger: str, user: str = "U2") -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "send_as_feedback",
        "trigger_id": trigger,
        "action_ts": "1700000001.000001",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "team_id": TEAM},
        "channel": {"id": "C1", "name": "general"},
        "message": {
            "type": "message",
            "user": "U3",
            "ts": TS,
            "text": "Search &lt;never&gt; works",
        },
        "message_ts": TS,
        "response_url": "https://hooks.example/1",
        "token": "x",
    }


def submission(view: dict[str, Any], values: dict[str, str], user: str = "U2") -> dict[str, Any]:
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block["element"]
        value = values.get(block["block_id"], "")
        if element["type"] == "static_select":
            chosen = {"value": value} if value else None
            state[block["block_id"]] = {
                "value": {"type": "static_select", "selected_option": chosen}
            }
        else:
            state[block["block_id"]] = {"value": {"type": "plain_text_input", "value": value}}
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": f"sub-{len(values)}",
        "view": dict(
            view,
            id=f"V{abs(hash(json.dumps(values))) % 10**6}",
            hash="h1",
            team_id=TEAM,
            state={"values": state},
        ),
    }


def button(action_id: str, value: str, user: str = "U1") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "team_id": TEAM},
        "trigger_id": f"btn-{action_id}-{user}",
        "channel": {"id": "C9", "name": "triage"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C9"},
        "message": {"ts": "1.1", "type": "message"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "block_id": "b",
                "action_ts": "1700000002.000001",
            }
        ],
    }


async def test_feedback_slash_command_card_buttons_and_closing_the_loop(slack: SlackSystem) -> None:
    ack = await slack.command(
        "the onboarding guide skips the VPN setup <!channel>", user="U2", command="/feedback"
    )
    assert ack["response_type"] == "ephemeral" and "filed as FB-1" in ack["text"]
    await slack.deliver()
    (card,) = slack.sent("chat.postMessage", channel="C9")
    assert "&lt;!channel&gt;" in card["text"] and "<!channel>" not in json.dumps(card["blocks"])
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]][:2] == ["feedback:ack", "feedback:assign"]

    assert (await slack.action(button("feedback:vote", "1", user="U3"))).status == 200
    assert (await slack.action(button("feedback:ack", "1"))).status == 200
    await slack.deliver()
    assert slack.sent("chat.update", channel="C9")  # the card follows the changes
    for words in ("planned “in the Q3 plan”", "in progress"):
        await slack.command(f"feedback status FB-1 {words}")
    assert (await slack.action(button("feedback:decline", "1"))).status == 200
    (opened,) = slack.sent("views.open")
    assert opened["trigger_id"] == "btn-feedback:decline-U1"
    view = opened["view"]
    assert view["callback_id"] == "feedback:decline" and view["blocks"][0]["block_id"] == "reason"
    resp = await slack.action(submission(view, {"reason": ""}, user="U1"))
    body = json.loads(await resp.text())
    assert body["response_action"] == "errors" and "reason" in body["errors"]
    resp = await slack.action(submission(view, {"reason": "we are rewriting the guide"}, user="U1"))
    assert resp.status == 200
    await slack.deliver()
    dms = [m["text"] for m in slack.sent("chat.postMessage", channel="U2")]
    assert len(dms) == 4  # every status change reached the submitter
    assert [
        ("now *" + s + "*") in t
        for t, s in zip(dms, ["acknowledged", "planned", "in progress", "declined"], strict=True)
    ] == [True] * 4
    assert "in the Q3 plan" in dms[1] and "we are rewriting the guide" in dms[3]
    assert len(slack.sent("chat.postMessage", channel="U3")) == 4  # and the voter too


async def test_message_shortcut_opens_a_prefilled_modal(slack: SlackSystem) -> None:
    resp = await slack.action(shortcut("trig-sc"))
    assert resp.status == 200
    (opened,) = slack.sent("views.open")
    view = opened["view"]
    assert opened["trigger_id"] == "trig-sc" and view["type"] == "modal"
    assert view["blocks"][0]["element"]["initial_value"] == "Search <never> works"
    assert [b["block_id"] for b in view["blocks"]] == ["text", "category", "note", "anonymous"]
    too_long = await slack.action(submission(view, {"text": "x" * 4001, "anonymous": "no"}))
    assert "4,000" in json.loads(await too_long.text())["errors"]["text"]
    ok = await slack.action(
        submission(view, {"text": "Search never works", "category": "docs", "anonymous": "yes"})
    )
    assert ok.status == 200 and not await ok.text()
    await slack.deliver()
    (card,) = slack.sent("chat.postMessage", channel="C9")
    assert "Bo" not in json.dumps(card) and "anonymous" in json.dumps(card["blocks"])
    assert "https://example.slack.com/archives/C1/p1700000000000100" in json.dumps(card["blocks"])
    (thanks,) = slack.sent("chat.postEphemeral", channel="C1", user="U2")
    assert "without your name" in thanks["text"]


async def test_reaction_files_for_the_author_and_export_uploads_a_csv(slack: SlackSystem) -> None:
    await slack.command("config feedback-reaction memo")
    reaction = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "memo",
        "item": {"type": "message", "channel": "C1", "ts": TS},
        "item_user": "U3",
        "event_ts": "1700000003.000001",
    }
    assert (await slack.event(reaction, event_id="EvM")).status == 200
    assert (await slack.event(reaction, event_id="EvM")).status == 200  # a retry
    await slack.deliver()
    assert slack.sent("conversations.history", channel="C1")
    (told,) = slack.sent("chat.postMessage", channel="U3")
    assert "filed your message as feedback FB-1" in told["text"]
    assert len(slack.sent("chat.postMessage", channel="C9")) == 1

    ack = await slack.command("feedback export since 2026-11-01")
    assert "Exported 1 items" in ack["text"]
    await slack.deliver()
    (done,) = slack.sent("files.completeUploadExternal")
    assert done["channel_id"] == "DU1"
    (upload,) = slack.api.calls_to("upload")
    assert upload.args["content"].startswith(b"id,created,status")
    bad = await slack.command("feedback export since 2026-13-45")
    assert "“2026-13-45” is not a date; expected YYYY-MM-DD" in bad["text"]
