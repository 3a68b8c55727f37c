"""Kudos flows told as a chat, through the `chat` fixture (tests/conversation.py)."""

from __future__ import annotations

from tests.conversation import Chat


async def test_kudos_reaches_the_recipient_by_dm(chat: Chat) -> None:
    reply = await chat.say("ana", "kudos @bo thanks for the demo #teamwork")
    assert "Kudos sent to @Bo" in reply and "4 of 5 left today" in reply
    (dm,) = chat.pop("bo")
    assert "Ana gave you kudos" in dm and "thanks for the demo #teamwork" in dm
    assert chat.pop("bo") == []  # popped is forgotten
    (post,) = chat.channel("general")
    assert "gave kudos to @Bo" in post
    assert "received: 1 this week" in await chat.say("bo", "kudos stats")


async def test_kudos_to_yourself_is_refused_and_nothing_is_sent(chat: Chat) -> None:
    reply = await chat.say("ana", "kudos @ana great work, me")
    assert "can't give kudos to yourself" in reply
    assert "Kudos sent" not in reply
    assert chat.pop("ana") == []
    assert chat.channel("general") == []
    assert "given: 0 this week" in await chat.say("ana", "kudos stats")


async def test_reaction_gives_kudos_and_removing_it_takes_them_back(chat: Chat) -> None:
    demo = chat.message("bo")
    await chat.react("ana", demo, "clap")
    (dm,) = chat.pop("bo")
    assert "Ana gave you kudos" in dm
    assert "received: 1 this week" in await chat.say("bo", "kudos stats")

    await chat.unreact("ana", demo, "clap")
    assert "received: 0 this week" in await chat.say("bo", "kudos stats")
    assert chat.pop("bo") == []  # taking back is silent


async def test_allowance_comes_back_at_midnight_in_the_givers_zone(chat: Chat) -> None:
    for _ in range(5):
        assert "Kudos sent" in await chat.say("ana", "kudos @bo thanks")
    assert "used all 5 kudos" in await chat.say("ana", "kudos @cy thanks")
    await chat.later(hours=12, minutes=59)  # 22:59 UTC: still the same day in Paris
    assert "used all 5 kudos" in await chat.say("ana", "kudos @cy thanks")
    await chat.later(minutes=2)
    assert "Kudos sent to @Cy" in await chat.say("ana", "kudos @cy thanks")
    assert len(chat.pop("bo")) == 5 and len(chat.pop("cy")) == 1
