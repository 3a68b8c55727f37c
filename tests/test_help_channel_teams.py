"""Help-channel routing on Teams end to end: channel posts (delivered with the manifest's
ChannelMessage.Read.Group permission, no @mention) into the real botbuilder stack, the Bot
Connector calls (thread replies, proactive DMs, card updates) into the local fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeBotConnector
from tests.teams_support import start_teams
from tests.test_teams_e2e import (
    ANA,
    BO,
    CY,
    GENERAL,
    NAMES,
    PERSONAL,
    TeamsSystem,
    _base,
    mention,
)

DEE = "29:dee"
NAMES.setdefault(DEE, "Dee")
PERSONAL.setdefault(DEE, "a:dm-dee")
HELP = "19:help@thread.tacv2"


@pytest_asyncio.fixture
async def teams(
    db_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> AsyncIterator[TeamsSystem]:
    """On SQLite and PostgreSQL."""
    async for system in start_teams(db_url, clock, fake_connector):
        yield system


def help_post(teams: TeamsSystem, text: str, sender: str, message_id: str) -> dict[str, Any]:
    """A new post in #help: Teams names the post as its own thread."""
    activity = _base(
        teams.connector.url,
        sender,
        {"conversationType": "channel", "isGroup": True, "id": HELP, "tenantId": "tenant-1"},
    )
    activity["id"] = message_id
    activity["conversation"]["id"] = f"{HELP};messageid={message_id}"
    activity["channelData"]["channel"] = {"id": HELP}
    activity["text"] = text
    return activity


def in_help_mentioning_bot(teams: TeamsSystem, text: str) -> dict[str, Any]:
    activity = help_post(teams, f"<at>Allybot</at> {text}", ANA, "1700000000900")
    activity["entities"] += [mention("28:allybot-app", "Allybot")]
    return activity


def card_submit(teams: TeamsSystem, sender: str, action_id: str, value: str) -> dict[str, Any]:
    conv = {"conversationType": "personal", "id": f"a:dm-{sender}", "tenantId": "tenant-1"}
    activity = _base(teams.connector.url, sender, conv)
    activity["value"] = {"action_id": action_id, "value": value}
    activity["replyToId"] = "1700000000555"
    return activity


def card_actions(activity: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for attachment in activity.get("attachments") or []:
        for action in (attachment.get("content") or {}).get("actions") or []:
            data = action.get("data") or {}
            if "action_id" in data:
                found[data["action_id"]] = str(data.get("value", ""))
    return found


async def set_up(teams: TeamsSystem) -> None:
    added = await teams.say('topic add vpn "Remote access" keywords: vpn, wireguard')
    assert "Added the topic vpn" in added["text"], added
    for who in (BO, CY):
        reply = await teams.say(f"expert add <at>{NAMES[who]}</at> vpn", mentions=(who,))
        assert "is now an expert on vpn" in reply["text"], reply
    (ok,) = await teams.send(in_help_mentioning_bot(teams, "help-channel add here vpn"))
    assert "is a help channel now" in ok["text"], ok


async def test_channel_question_routed_claimed_and_resolved(teams: TeamsSystem) -> None:
    await set_up(teams)
    # No @mention: with resource-specific consent every post reaches the bot.
    assert await teams.send(help_post(teams, "My VPN keeps dropping", DEE, "1700000001000")) == []
    await teams.deliver()

    replies = teams.posts_in(f"{HELP};messageid=1700000001000")
    assert any("I've asked people who know about vpn" in r["text"] for r in replies), replies
    resolve = next(r for r in replies if "routing:resolve" in card_actions(r))
    asked = {
        who
        for who in (BO, CY)
        if any("routing:claim" in card_actions(a) for a in teams.dms_to(who))
    }
    assert asked == {BO, CY}
    (ask_bo,) = [a for a in teams.dms_to(BO) if "routing:claim" in card_actions(a)]
    qid = card_actions(ask_bo)["routing:claim"]
    assert "VPN keeps dropping" in json.dumps(ask_bo)

    (took,) = await teams.send(card_submit(teams, BO, "routing:claim", qid))
    assert "You're on Q-1" in took["text"]
    (late,) = await teams.send(card_submit(teams, CY, "routing:claim", qid))
    assert "Bo is already on Q-1" in late["text"]
    await teams.deliver()
    updates = [c.body for c in teams.connector.calls_of("update") if c.body]
    assert any("Bo is on Q-1" in json.dumps(u) for u in updates), updates  # Cy's card
    thread = teams.posts_in(f"{HELP};messageid=1700000001000")
    assert any("Bo is on Q-1" in r["text"] for r in thread)

    (done,) = await teams.send(
        card_submit(teams, DEE, "routing:resolve", card_actions(resolve)["routing:resolve"])
    )
    assert "Q-1 is resolved; Bo is credited" in done["text"]
    shown = await teams.say("question show Q-1")
    assert "resolved" in shown["text"]


async def test_ask_in_personal_chat_and_whoknows(teams: TeamsSystem) -> None:
    await set_up(teams)
    got = await teams.say("ask how do I set up wireguard?", sender=DEE)
    assert "Q-1" in got["text"]
    await teams.deliver()
    assert any("routing:claim" in card_actions(a) for a in teams.dms_to(BO))
    who = await teams.say("whoknows wireguard", sender=DEE)
    assert "Bo" in who["text"] and "Cy" in who["text"]


async def test_a_reply_in_the_thread_is_not_a_new_question(teams: TeamsSystem) -> None:
    await set_up(teams)
    await teams.send(help_post(teams, "vpn is slow", DEE, "1700000002000"))
    reply = help_post(teams, "same here", CY, "1700000002001")
    reply["conversation"]["id"] = f"{HELP};messageid=1700000002000"
    await teams.send(reply)
    await teams.deliver()
    listed = await teams.say("questions all")
    assert listed["text"].count("Q-") == 1, listed
    assert GENERAL not in json.dumps(listed)
