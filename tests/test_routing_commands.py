"""Routing's commands and their errors: topics, experts and nominations, help channels,
availability, whoknows, questions; permissions; the profile's expert topics; the claim's
conditional update raced on each database."""

from __future__ import annotations

import asyncio

from bot.events import ActionPressed, FormSubmitted
from bot.messages import plain_text
from store import Database
from store import routing as routing_store
from store import workspaces as ws_store
from store.models import RoutingQuestion
from tests.conftest import START
from tests.conversation import Chat
from tests.helpers import command
from tests.memory_port import MemoryPort
from tests.test_routing_flow import asks, port, setup

__all__ = ["port"]


async def test_topics_and_their_errors(chat: Chat) -> None:
    assert "Only people with the curator role" in await chat.say("bo", "topic add vpn")
    assert "keywords: vpn, wireguard" in await chat.say(
        "ana", 'topic add VPN "Remote access" keywords: VPN, WireGuard'
    )
    assert "already" in await chat.say("ana", "topic add vpn")
    assert "is not a topic name" in await chat.say("ana", "topic add no/slash")
    assert "Name the topic" in await chat.say("ana", "topic add")
    assert "keywords is now vpn, tunnel" in await chat.say(
        "ana", "topic edit vpn keywords vpn, tunnels"
    )
    assert "Usage: topic" in await chat.say("ana", "topic edit vpn colour blue")
    assert "There is no topic “printers”. Topics: vpn." in await chat.say(
        "ana", "topic edit printers name printing"
    )
    await chat.say("ana", "role add @cy curator")
    assert "Added the topic laptops" in await chat.say("cy", "topic add laptops")
    listed = await chat.say("bo", "topics")
    assert "laptops: experts no experts yet; 0 open questions" in listed
    assert "vpn — Remote access" in listed
    assert "Removed the topic laptops" in await chat.say("cy", "topic remove laptops")
    assert "laptops" not in await chat.say("bo", "topics")


async def test_experts_nominated_approved_and_declined(chat: Chat, port: MemoryPort) -> None:
    await chat.say("ana", "topic add vpn")
    await chat.say("ana", "role add @cy curator")
    chat.pop("cy")
    assert "a curator will decide" in await chat.say("dee", "expert nominate vpn")
    card = [b for b in chat.buttons("cy") if b[1] == "routing:approve"]
    assert card, chat.buttons("cy")
    assert "waiting for a curator" in await chat.say("dee", "expert nominate vpn")
    assert "is approved" in await chat.press("cy", "routing:approve", card[0][2])
    assert any("You're now an expert on vpn" in t for t in chat.pop("dee"))
    assert any("Cy approved it" in e for e in [plain_text(m.text) for _, m in port.updates])
    assert "Dee" in await chat.say("bo", "experts vpn")
    assert "no pending nomination" in await chat.say("ana", "expert approve @dee vpn")

    await chat.say("eve", "expert nominate vpn")
    decline = [b for b in chat.buttons("cy") if b[1] == "routing:decline"][-1]
    event = pressed(chat, "cy", "routing:decline", decline[2])
    reply = await chat.core.handle(event)
    assert reply is not None and reply.form is not None and reply.form.form_id == "routing:decline"
    empty = FormSubmitted(
        event_id="form-1",
        actor=chat.user("cy"),
        occurred_at=START,
        form_id="routing:decline",
        values={"reason": " "},
        state=reply.form.state,
    )
    refused = await chat.core.handle(empty)
    assert refused is not None and refused.form_errors.get("reason")
    sent = await chat.core.handle(
        FormSubmitted(
            event_id="form-2",
            actor=chat.user("cy"),
            occurred_at=START,
            form_id="routing:decline",
            values={"reason": "Not enough VPN answers yet"},
            state=reply.form.state,
        )
    )
    await chat.core.run_due()
    assert sent is not None and "is declined" in plain_text(sent.message.text)
    assert any("was declined: Not enough VPN answers yet" in t for t in chat.pop("eve"))

    assert "Say why, for the nominee" in await chat.say("ana", "expert decline @eve vpn")
    assert "Usage: expert" in await chat.say("ana", "expert add vpn")
    assert "Only people with the curator role" in await chat.say("bo", "expert add @bo vpn")
    assert "is a bot" in await chat.say("ana", "expert add @deploybot vpn")
    assert "There is no topic “dns”" in await chat.say("ana", "expert add @fay dns")
    assert "is now an expert" in await chat.say("ana", "expert add @fay vpn")
    assert "no longer an expert" in await chat.say("ana", "expert remove @fay vpn")


def pressed(chat: Chat, who: str, action_id: str, value: str) -> ActionPressed:
    return ActionPressed(
        event_id=f"act-{action_id}-{value}",
        actor=chat.user(who),
        occurred_at=START,
        action_id=action_id,
        value=value,
    )


async def test_profile_shows_expert_topics(chat: Chat) -> None:
    await chat.say("ana", "topic add vpn")
    await chat.say("ana", "topic add laptops")
    await chat.say("ana", "expert add @dee vpn")
    await chat.say("ana", "expert add @dee laptops")
    reply = await chat.core.handle(
        command(chat.user("bo"), "profile <@dee>", chat.conversation("general"), START)
    )
    assert reply is not None and reply.message.card is not None
    assert "Expert on laptops, vpn." in str(reply.message.card.context)


async def test_help_channels_and_their_errors(chat: Chat, port: MemoryPort) -> None:
    await chat.say("ana", "topic add vpn")
    assert "community manager role" in await chat.say("bo", "help-channel add #help")
    await chat.say("ana", "role add @max community-manager")
    port.joined = {"help"}
    assert "I'm not in #it" in await chat.say("max", "help-channel add #it vpn")
    assert "There is no topic “dns”" in await chat.say("max", "help-channel add #help dns")
    assert "is a help channel now" in await chat.say("max", "help-channel add #help vpn")
    assert "already" in await chat.say("max", "help-channel add #help")
    assert "asks 3 at once" in await chat.say("max", "help-channel edit #help ask 3")
    assert "not a whole number from 1 to 1440" in await chat.say(
        "max", "help-channel edit #help escalate-after 0"
    )
    assert "escalates after 20 working minutes" in await chat.say(
        "max", "help-channel edit #help escalate-after 20"
    )
    assert "isn't a help channel" in await chat.say("max", "help-channel edit #random ask 2")
    assert "#help: vpn; asks 3" in await chat.say("bo", "help-channels")
    assert "Usage: help-channel" in await chat.say("max", "help-channel move #help")
    assert "no longer a help channel" in await chat.say("max", "help-channel remove #help")
    assert "No help channels yet" in await chat.say("bo", "help-channels")


async def test_availability_and_its_errors(chat: Chat) -> None:
    shown = await chat.say("bo", "availability")
    assert "Mon-Fri 09:00-17:30, America/New_York (from your profile)" in shown
    assert "at most 3 open questions" in shown and "off duty now" in shown
    assert "is not a time of day" in await chat.say("bo", "availability hours 25:00-9")
    assert "is not a range of hours" in await chat.say("bo", "availability hours 9")
    assert (
        "Mon-Thu 08:00-16:00"
        in (
            await chat.say("bo", "availability hours 08:00-16:00"),
            await chat.say("bo", "availability days mon-thu"),
        )[1]
    )
    assert "is not a day" in await chat.say("bo", "availability days someday")
    assert "“Mars/Olympus” is not a time zone" in await chat.say(
        "bo", "availability tz Mars/Olympus"
    )
    assert "Europe/Berlin;" in await chat.say("bo", "availability tz Europe/Berlin")
    assert "(from your profile)" in await chat.say("bo", "availability tz profile")
    assert "not a cap" in await chat.say("bo", "availability max 0")
    assert "at most 2 open questions" in await chat.say("bo", "availability max 2")
    assert "Say for how long" in await chat.say("bo", "availability pause")
    assert "is not a pause duration" in await chat.say("bo", "availability pause soon")
    assert "is not a date" in await chat.say("bo", "availability pause until tomorrow")
    assert "in the past" in await chat.say("bo", "availability pause until 2020-01-01")
    assert "paused until Mon 04 Jan 00:00" in await chat.say(
        "bo", "availability pause until 2027-01-04"
    )
    assert "paused" not in await chat.say("bo", "availability resume")
    assert "Usage: availability" in await chat.say("bo", "availability sometimes")


async def test_whoknows_gives_a_reason_per_person(chat: Chat) -> None:
    await setup(chat)
    await chat.post("bo", "vpn wireguard handshake fails", where="help")
    await chat.say("dee", "question claim Q-1")
    await chat.say("bo", "question resolve Q-1")
    known = await chat.say("cy", "whoknows vpn handshake")
    lines = [line for line in known.splitlines() if line.startswith("•")]
    assert lines[0].startswith("• Dee: expert on vpn; resolved 1 vpn question; available now")
    assert any(line.startswith("• Eve: expert on vpn; available now") for line in lines)
    assert "Say what you want to know about" in await chat.say("cy", "whoknows how")
    assert "I don't know anyone" in await chat.say("cy", "whoknows printers")


async def test_learned_words_classify_later_questions(chat: Chat) -> None:
    await setup(chat)
    await chat.say("ana", "topic add laptops")
    await chat.say("ana", "expert add @cy laptops")
    await chat.say("bo", "ask vpn: the tunnel drops, handshake timeout", where="dm")
    await chat.say("dee", "question claim Q-1")
    await chat.say("bo", "question resolve Q-1")
    # No keyword, but "tunnel", "drop" and "handshake" were in a vpn question Dee resolved.
    await chat.say("bo", "ask the tunnel drops after a handshake timeout again", where="dm")
    shown = await chat.say("ana", "question show Q-2")
    assert "[vpn]" in shown and "came up in vpn questions resolved before" in shown
    await chat.say("bo", "ask what colour is the sky", where="dm")
    assert "[general]" in await chat.say("ana", "question show Q-3")


async def test_question_commands_and_their_errors(chat: Chat) -> None:
    await setup(chat)
    assert "Say what you want to know" in await chat.say("bo", "ask")
    assert "“Q-x” is not a question id" in await chat.say("bo", "question claim Q-x")
    assert "There is no question Q-9" in await chat.say("bo", "question claim Q-9")
    assert "Usage: question" in await chat.say("bo", "question dance Q-1")
    await chat.post("bo", "vpn keeps asking for my password", where="help")
    assert "You asked Q-1" in await chat.say("bo", "question claim Q-1")
    assert "not a snooze duration" in await chat.say("dee", "question snooze Q-1 later")
    assert "Only people with the community manager role" in await chat.say(
        "cy", "question resolve Q-1"
    )
    assert "Name at most one helper" in await chat.say("bo", "question resolve Q-1 Dee")
    assert "Q-1 [vpn] asked, unclaimed" in await chat.say("bo", "questions unclaimed")
    assert "Q-1" in await chat.say("dee", "questions mine")
    assert "not a list" in await chat.say("bo", "questions weird")
    assert "Credit the person who helped" in await chat.say("bo", "question resolve Q-1 @bo")
    assert "Fay is credited" in await chat.say("bo", "question resolve Q-1 @fay")
    assert "already resolved" in await chat.say("bo", "question resolve Q-1")
    assert "No open questions" in await chat.say("bo", "questions")
    assert "Away status words: out of office" in await chat.say("ana", "config away-words default")
    assert "Away status words: ooo, offline" in await chat.say(
        "ana", "config away-words ooo, offline"
    )
    assert "not a number of working hours" in await chat.say("ana", "config question-reminder 0")


async def test_routing_failure_tells_a_community_manager(chat: Chat, port: MemoryPort) -> None:
    await chat.say("ana", "topic add vpn")  # nobody tagged, no community manager
    await chat.say("ana", "help-channel add #help vpn")
    await chat.post("bo", "vpn?", where="help")
    assert any("Q-1 could not be routed" in t for t in chat.pop("ana"))  # the admin
    assert any("couldn't find anyone to ask" in t for t in port_texts(port, "help"))
    assert asks(chat, "bo") == []


def port_texts(port: MemoryPort, channel: str) -> list[str]:
    return [p.text for p in port.in_conversation(channel)]


async def test_claim_is_a_conditional_update_that_one_of_two_racers_wins(db: Database) -> None:
    async with db.transaction() as session:
        ws = await ws_store.ensure_workspace(session, "console", "acme", START)
        a = await ws_store.ensure_member(session, ws.id, "a", START)
        b = await ws_store.ensure_member(session, ws.id, "b", START)
        c = await ws_store.ensure_member(session, ws.id, "c", START)
        q = RoutingQuestion(
            workspace_id=ws.id, number=1, asker_id=c.id, source_key="k", text="vpn",
            status="open", level=0, waits=0, created_at=START, last_message_at=START,
            updated_at=START,
        )  # fmt: skip
        session.add(q)
        await session.flush()
        question_id, ids = q.id, (a.id, b.id)
    started = asyncio.Event()

    async def claim(member_id: int, first: bool) -> bool:
        async with db.transaction() as session:
            if first:
                won = await routing_store.claim(session, question_id, member_id, START)
                started.set()
                await asyncio.sleep(0.2)  # hold the row while the other tries
                return won
            await started.wait()
            return await routing_store.claim(session, question_id, member_id, START)

    results = await asyncio.gather(claim(ids[0], True), claim(ids[1], False))
    assert list(results) == [True, False]
    async with db.transaction() as session:
        row = await routing_store.question(session, question_id)
        assert row is not None and row.claimed_by == ids[0] and row.status == "claimed"
