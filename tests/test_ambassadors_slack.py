"""The ambassador program on Slack end to end: signed requests into bolt, Web API calls
(conversations.create and conversations.invite included) into the local fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeSlackApi
from tests.slack_support import SlackSystem, block_action, start_slack
from tests.test_feedback_slack import submission


@pytest_asyncio.fixture
async def slack(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    """On SQLite and on PostgreSQL (the `db_url` fixture)."""
    async for system in start_slack(db_url, fake_slack, clock):
        yield system


def press(action_id: str, value: str, user: str, trigger: str) -> dict[str, Any]:
    """A button of a card the bot sent in `user`'s DM with it."""
    return block_action(action_id, value, user=user, channel=f"D{user}", trigger=trigger)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def ephemerals(slack: SlackSystem, user: str) -> list[str]:
    return [m["text"] for m in slack.sent("chat.postEphemeral", user=user)]


async def test_join_approve_im_in_and_training_awards_the_badge(slack: SlackSystem) -> None:
    await slack.command("office add Paris tz Europe/Paris")
    ack = await slack.command("ambassador join Paris “I love helping newcomers”", user="U2")
    assert ack["response_type"] == "ephemeral" and "I sent your request" in ack["text"]
    await slack.deliver()
    (card,) = slack.sent("chat.postMessage", channel="U1")  # Ana, the admin, reviews it
    assert "Ambassador request: Bo" in json.dumps(card["blocks"])
    approve, decline = buttons(card)
    assert (approve["action_id"], approve["value"]) == ("ambassador:approve", "U2")
    assert decline["action_id"] == "ambassador:decline"

    resp = await slack.action(press("ambassador:approve", approve["value"], "U1", "t-approve"))
    assert resp.status == 200
    await slack.deliver()
    assert any("Bo is now an ambassador" in t for t in ephemerals(slack, "U1"))
    assert "Approved by Ana" in json.dumps(slack.sent("chat.update")[-1]["blocks"])
    (welcome,) = slack.sent("chat.postMessage", channel="U2")
    (im_in,) = buttons(welcome)
    assert im_in["action_id"] == "ambassador:confirm" and im_in["text"]["text"] == "I'm in"

    await slack.action(press("ambassador:confirm", "", "U2", "t-in"))
    await slack.deliver()
    checklist = slack.sent("chat.postMessage", channel="U2")[-1]
    dones = buttons(checklist)
    assert [d["text"]["text"] for d in dones] == ["Done 1", "Done 2", "Done 3"]
    for i, done in enumerate(dones):
        await slack.action(press("training:done", done["value"], "U2", f"t-done-{i}"))
        await slack.deliver()
    dms = [m["text"] for m in slack.sent("chat.postMessage", channel="U2")]
    assert sum("Trained ambassador" in t for t in dms) == 1
    assert any("you finished the ambassador training" in t for t in ephemerals(slack, "U2"))
    # The card followed every tick, ending with no buttons left.
    last = slack.sent("chat.update")[-1]
    assert not buttons(last) and "All done" in json.dumps(last["blocks"])


async def test_open_request_approved_creates_the_channel(slack: SlackSystem) -> None:
    await slack.command("offices")  # Ana, the admin from ALLYBOT_ADMINS, is seen here
    ack = await slack.command("community request #design-guild “a place for designers”", user="U3")
    assert "R-1: I sent your request" in ack["text"]
    await slack.deliver()
    (card,) = slack.sent("chat.postMessage", channel="U1")
    assert [b["action_id"] for b in buttons(card)] == [
        "community:approve",
        "community:decline",
        "community:changes",
    ]
    assert "open unless there is a reason" in json.dumps(card["blocks"])
    await slack.action(press("community:approve", "1", "U1", "t-ok"))
    await slack.deliver()
    (created,) = slack.sent("conversations.create")
    assert created["name"] == "design-guild" and created["is_private"] in (False, "false", "0")
    (invite,) = slack.sent("conversations.invite")
    assert invite["users"] == "U3" and invite["channel"] == slack.api.channel_names["design-guild"]
    told = [m["text"] for m in slack.sent("chat.postMessage", channel="U3")]
    assert "I created #design-guild and added you" in told[0]
    assert "community-manager onboarding" in told[1]
    assert any("#design-guild is created" in t for t in ephemerals(slack, "U1"))


async def test_a_taken_name_changes_nothing(slack: SlackSystem) -> None:
    slack.api.channel_names["random"] = "C77"
    await slack.command("community request #random “anything”", user="U3")
    out = await slack.command("community approve R-1")
    assert "#random is already taken on Slack" in out["text"] and "nothing changed" in out["text"]
    shown = await slack.command("community show R-1")
    assert "(open)" in shown["text"] and "approved" not in shown["text"]
    bad = await slack.command("community request #Design-Guild “x”", user="U3")
    assert "must be lowercase" in bad["text"]


async def test_private_request_declined_with_a_reason_in_a_modal(slack: SlackSystem) -> None:
    await slack.command("offices")
    await slack.command("community request #leads “for leads” private “people topics”", user="U3")
    await slack.deliver()
    await slack.action(press("community:decline", "1", "U1", "t-decline"))
    (opened,) = slack.sent("views.open")
    view = opened["view"]
    assert opened["trigger_id"] == "t-decline" and view["callback_id"] == "community:decline"
    empty = await slack.action(submission(view, {"reason": ""}, user="U1"))
    assert "reason" in json.loads(await empty.text())["errors"]
    ok = await slack.action(submission(view, {"reason": "use #leads-open instead"}, user="U1"))
    assert ok.status == 200
    await slack.deliver()
    told = [m["text"] for m in slack.sent("chat.postMessage", channel="U3")]
    assert any("declined your request for #leads" in t and "#leads-open" in t for t in told)
    assert slack.sent("conversations.create") == []
