"""Help-channel routing end to end through the core: a question routed, claimed, resolved and
credited; reactions; grouping; thread replies; `ask`; the claim race (both databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.core import Allybot
from bot.messages import ToConversation, plain_text
from store import recognition as rec_store
from store import workspaces as ws_store
from tests.conversation import Chat
from tests.memory_port import MemoryPort

# conftest's START: Wednesday 18 November 2026, 10:00 UTC. On duty then (09:00-17:30 local):
# dee, fay (UTC), eve (Berlin, 11:00), max (London, 10:00); not bo (New York, 05:00) nor cy
# (Tokyo, 19:00).


@pytest.fixture
def port() -> MemoryPort:
    port = MemoryPort()
    port.add("ana", "Ana", tz="Europe/Paris")
    port.add("bo", "Bo", tz="America/New_York")
    port.add("cy", "Cy", tz="Asia/Tokyo")
    port.add("dee", "Dee", tz="UTC")
    port.add("eve", "Eve", tz="Europe/Berlin")
    port.add("fay", "Fay", tz="UTC")
    port.add("max", "Max", tz="Europe/London")
    port.add("deploybot", "Deploybot", is_bot=True)
    return port


async def setup(chat: Chat, *experts: str) -> None:
    assert "Added the topic vpn" in await chat.say(
        "ana", 'topic add vpn "Remote access" keywords: vpn, wireguard, remote access'
    )
    for name in experts or ("dee", "eve", "fay"):
        assert "is now an expert on vpn" in await chat.say("ana", f"expert add @{name} vpn")
    assert "is a help channel now" in await chat.say("ana", "help-channel add #help vpn")


def asks(chat: Chat, who: str) -> list[str]:
    return [t for t in chat.pop(who) if "Can you help with" in t]


def thread(port: MemoryPort, channel: str = "help") -> list[str]:
    return [
        p.text
        for p in port.posted
        if isinstance(p.target, ToConversation)
        and p.target.conversation.id == channel
        and p.target.thread_id is not None
    ]


def edits(port: MemoryPort) -> list[str]:
    return [plain_text(m.text) for _, m in port.updates]


async def counter(core: Allybot, user: str, name: str) -> int:
    async with core.services.db.transaction() as session:
        ws = await ws_store.ensure_workspace(session, "console", "acme", core.services.clock.now())
        member = await ws_store.get_member(session, ws.id, user)
        assert member is not None
        return await rec_store.get_counter(session, member.id, name)


async def test_routed_claimed_resolved_and_credited(
    chat: Chat, core: Allybot, port: MemoryPort
) -> None:
    await setup(chat)
    question = await chat.post("bo", "My VPN keeps dropping every few minutes", where="help")
    (reply,) = thread(port)
    assert "Q-1: I've asked people who know about vpn" in reply and "“vpn”" in reply
    assert "@Dee and @Eve" in reply  # ranked equal: the earlier expert first, two at once
    (ask_dee,) = asks(chat, "dee")
    assert "Bo asks in #help" in ask_dee and "VPN keeps dropping" in ask_dee
    assert len(asks(chat, "eve")) == 1 and not asks(chat, "fay") and not asks(chat, "bo")
    labels = [b[0] for b in chat.buttons("dee")]
    assert labels == ["I'll take it", "Not my area", "Snooze 1 h"]
    qid = chat.buttons("dee")[0][2]

    assert "You're on Q-1" in await chat.press("dee", "routing:claim", qid)
    assert "Dee is already on Q-1" in await chat.press("eve", "routing:claim", qid)
    assert any("Dee is on Q-1" in e for e in edits(port))  # Eve's card
    assert any("Dee is on Q-1" in t for t in thread(port))
    await chat.reply("dee", question, "Try switching to the wireguard profile")

    assert "Q-1 is resolved; Dee is credited" in await chat.press("bo", "routing:resolve", qid)
    assert await counter(core, "dee", "questions_answered") == 1
    assert any("counts as a question you answered" in t for t in chat.pop("dee"))
    thanks = [b for b in chat.buttons("bo") if b[1] == "routing:kudos"]
    assert thanks and thanks[0][0] == "Thank Dee"
    assert "Kudos sent to" in await chat.press("bo", "routing:kudos", thanks[0][2])
    assert any("gave you kudos" in t for t in chat.pop("dee"))

    shown = await chat.say("bo", "question show Q-1")
    assert "resolved" in shown and "Dee (claimed" in shown and "Eve (lost" in shown
    assert "First response: 0 working minutes" in shown
    assert "Time to resolution: 0 working minutes (0 wall minutes)" in shown
    # Nothing fires later: the escalation was cancelled by the claim, the rest by resolving.
    before = len(port.posted)
    await chat.later(days=3)
    assert len(port.posted) == before


async def test_reactions_claim_and_resolve(chat: Chat, core: Allybot, port: MemoryPort) -> None:
    await setup(chat)
    question = await chat.post("bo", "wireguard won't connect", where="help")
    await chat.react("cy", question, "eyes")  # not an ally of this question: nothing
    assert not any("is on Q-1" in t for t in thread(port))
    await chat.react("eve", question, "eyes")
    assert any("Eve is on Q-1" in t for t in thread(port))
    await chat.react("eve", question, "white_check_mark")  # only the asker resolves by ✅
    assert "claimed" in await chat.say("bo", "question show Q-1")
    await chat.react("bo", question, "white_check_mark")
    assert await counter(core, "eve", "questions_answered") == 1


async def test_one_question_per_five_minutes_and_replies_are_not_questions(
    chat: Chat, port: MemoryPort, clock: ManualClock
) -> None:
    await setup(chat)
    first = await chat.post("bo", "vpn question:", where="help")
    clock.advance(timedelta(minutes=3))
    await chat.post("bo", "it says handshake failed", where="help")
    await chat.reply("cy", first, "same here")  # a reply, not a question
    await chat.post("deploybot", "deploy finished for vpn service", where="help")  # a bot
    await chat.post("bo", "vpn in #general is not routed")  # not a help channel
    listed = await chat.say("ana", "questions all")
    assert listed.count("Q-") == 1 and "Q-1" in listed
    shown = await chat.say("ana", "question show Q-1")
    assert "added" in shown and "answered" in shown  # the second message; Cy's reply
    clock.advance(timedelta(minutes=6))
    await chat.post("bo", "another vpn thing", where="help")
    assert "Q-2" in await chat.say("ana", "questions all")


async def test_thread_reply_by_an_ally_claims_and_is_credited(
    chat: Chat, core: Allybot, port: MemoryPort
) -> None:
    await setup(chat)
    question = await chat.post("bo", "vpn drops on wifi", where="help")
    await chat.reply("fay", question, "Disable wifi power saving")  # an expert, not asked
    assert any("Fay is on Q-1" in t for t in thread(port))
    await chat.react("bo", question, "white_check_mark")
    assert await counter(core, "fay", "questions_answered") == 1


async def test_ask_by_dm_brings_the_answer_back_naming_the_helper(
    chat: Chat, core: Allybot, port: MemoryPort
) -> None:
    await setup(chat)
    assert "Got it: Q-1" in await chat.say("bo", "ask how do I set up wireguard?", where="dm")
    assert len(asks(chat, "dee")) == 1
    notes = chat.pop("bo")
    assert any("I've asked people who know about vpn" in t for t in notes)
    assert "Sent your answer" in await chat.say(
        "dee", "question answer Q-1 Use the profile in the portal"
    )
    (answer,) = [t for t in chat.pop("bo") if "answered your question" in t]
    assert "Dee answered your question Q-1: Use the profile in the portal" in answer
    assert "Q-1 is resolved; Dee is credited" in await chat.say("bo", "question resolve Q-1")


async def test_two_claims_at_the_same_moment_one_wins(chat: Chat, core: Allybot) -> None:
    await setup(chat)
    await chat.post("bo", "vpn is down", where="help")
    qid = chat.buttons("dee")[0][2]
    answers = await asyncio.gather(
        chat.press("dee", "routing:claim", qid), chat.press("eve", "routing:claim", qid)
    )
    won = [a for a in answers if "You're on Q-1" in a]
    lost = [a for a in answers if "is already on Q-1" in a]
    assert len(won) == 1 and len(lost) == 1, answers
    shown = await chat.say("ana", "question show Q-1")
    assert shown.count("(claimed") == 1
