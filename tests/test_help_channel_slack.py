"""Help-channel routing on Slack end to end: signed events and interactions into bolt, Web API
calls (thread replies, DMs, chat.update, dnd.info) into the local fake."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeSlackApi
from tests.slack_support import SlackSystem, block_action, start_slack

HELP = "C9"
QUESTION_TS = "1700000100.000100"

# conftest's START is Wednesday 18 November 2026, 10:00 UTC: Eve (Berlin, 11:00), Fay (London,
# 10:00) and Gus (UTC, 10:00) are inside their working hours; Bo (New York, 05:00) is not.


@pytest_asyncio.fixture
async def slack(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    """On SQLite and PostgreSQL."""
    fake_slack.add_user("U5", "Eve", tz="Europe/Berlin")
    fake_slack.add_user("U6", "Fay", tz="Europe/London")
    fake_slack.add_user("U7", "Gus", tz="UTC")
    fake_slack.channels[HELP] = True  # the bot was invited to #help
    fake_slack.channels["C8"] = False  # ... but not to #random
    async for system in start_slack(db_url, fake_slack, clock):
        yield system


def message(user: str, text: str, ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": HELP,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def buttons(posted: dict[str, Any]) -> dict[str, str]:
    """action_id -> value of the buttons in a posted message's blocks."""
    found: dict[str, str] = {}
    for block in (
        json.loads(posted["blocks"]) if isinstance(posted["blocks"], str) else posted["blocks"]
    ):
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


async def set_up_vpn(slack: SlackSystem) -> None:
    added = await slack.command('topic add vpn "Remote access" keywords: vpn, wireguard')
    assert "Added the topic vpn" in added["text"], added
    for user in ("U5", "U6", "U7"):
        answer = await slack.command(f"expert add <@{user}|x> vpn")
        assert "is now an expert on vpn" in answer["text"], answer
    refused = await slack.command("help-channel add <#C8|random> vpn")
    assert "I'm not in" in refused["text"] and "/invite @Allybot" in refused["text"]
    ok = await slack.command(f"help-channel add <#{HELP}|help> vpn")
    assert f"<#{HELP}> is a help channel now" in ok["text"], ok  # a channel link on Slack


async def test_question_routed_claimed_resolved_and_credited(slack: SlackSystem) -> None:
    await set_up_vpn(slack)
    slack.api.dnd["U6"] = int(time.time()) + 3600  # Fay is in Do Not Disturb

    resp = await slack.event(message("U2", "My VPN keeps dropping <!channel>", QUESTION_TS))
    assert resp.status == 200
    await slack.deliver()

    (reply,) = [m for m in slack.sent("chat.postMessage", channel=HELP) if m.get("thread_ts")]
    assert reply["thread_ts"] == QUESTION_TS
    assert "I've asked people who know about vpn" in reply["text"]
    assert "routing:resolve" in buttons(reply)
    # Eve and Gus are asked; Fay is skipped for Do Not Disturb; the asker never is.
    asked = {m["channel"] for m in slack.sent("chat.postMessage") if "routing:claim" in buttons(m)}
    assert asked == {"U5", "U7"}
    assert {c.args["user"] for c in slack.api.calls_to("dnd.info")} >= {"U6"}
    (dm,) = slack.sent("chat.postMessage", channel="U7")
    assert "&lt;!channel&gt;" in dm["text"] and "<!channel>" not in dm["text"]  # never pings
    assert f"archives/{HELP}/p{QUESTION_TS.replace('.', '')}" in json.dumps(dm)  # a link
    qid = buttons(dm)["routing:claim"]

    assert (
        await slack.action(block_action("routing:claim", qid, user="U7", channel="DU7"))
    ).status == 200
    assert (
        await slack.action(block_action("routing:claim", qid, user="U5", channel="DU5"))
    ).status == 200
    await slack.deliver()
    updated = [u["text"] for u in slack.sent("chat.update")]
    assert any("Gus is on Q-1" in t for t in updated), updated  # Eve's DM card was edited
    on_it = [m["text"] for m in slack.sent("chat.postMessage", channel=HELP)]
    assert any("Gus is on Q-1" in t for t in on_it)

    await slack.event(
        message("U7", "Switch to the wireguard profile", "1700000200.000100", QUESTION_TS)
    )
    await slack.event(
        {
            "type": "reaction_added",
            "user": "U2",
            "reaction": "white_check_mark",
            "item": {"type": "message", "channel": HELP, "ts": QUESTION_TS},
            "item_user": "U2",
            "event_ts": "1700000300.000100",
        }
    )
    await slack.deliver()
    shown = await slack.command("question show Q-1", user="U2")
    assert "resolved" in shown["text"] and "Gus" in shown["text"]
    profile = await slack.command("profile <@U7|gus>")
    assert "vpn" in json.dumps(profile)  # expert topics on the profile
    thanks = [
        m for m in slack.sent("chat.postMessage", channel="U2") if "routing:kudos" in buttons(m)
    ]
    assert thanks, "the asker is offered a one-tap kudos"


async def test_ask_slash_command_and_whoknows(slack: SlackSystem) -> None:
    await set_up_vpn(slack)
    ack = await slack.command("how do I set up wireguard?", user="U2", command="/ask")
    assert "Q-1" in ack["text"] and ack["response_type"] == "ephemeral"
    await slack.deliver()
    assert any("routing:claim" in buttons(m) for m in slack.sent("chat.postMessage", channel="U5"))
    who = await slack.command("whoknows wireguard", user="U2")
    assert "Eve" in who["text"] and "expert on vpn" in who["text"]


async def test_thread_replies_edits_and_bots_are_not_questions(slack: SlackSystem) -> None:
    await set_up_vpn(slack)
    await slack.event(message("U2", "vpn is slow", QUESTION_TS))
    await slack.event(message("U3", "same for me", "1700000101.000100", QUESTION_TS))
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": HELP,
        "message": {"type": "message", "user": "U2", "text": "vpn is very slow", "ts": QUESTION_TS},
        "ts": "1700000102.000100",
        "event_ts": "1700000102.000100",
    }
    await slack.event(edited)
    await slack.event(dict(message("B9", "vpn deploy done", "1700000103.000100"), bot_id="B9"))
    await slack.deliver()
    listed = await slack.command("questions all")
    assert listed["text"].count("Q-") == 1, listed
