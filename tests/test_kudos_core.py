"""Kudos rules, driven through the real core and store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.core import Allybot
from bot.ids import MessageRef
from bot.messages import plain_text
from tests.conftest import GENERAL, user
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort


async def run(core: Allybot, text: str, actor: str = "ana", **kw: object) -> str:
    reply = await core.handle(
        command(user(actor), text, GENERAL, core.services.clock.now(), **kw)  # type: ignore[arg-type]
    )
    await core.run_due()
    assert reply is not None
    return plain_text(reply.message.text)


async def test_kudos_by_command_dms_recipient_and_posts_in_channel(
    core: Allybot, port: MemoryPort
) -> None:
    out = await run(core, "kudos <@bo> thanks for the demo #teamwork")
    assert "Kudos sent to @Bo" in out
    assert "4 of 5 left today" in out
    dm = port.dms_to("bo")
    assert len(dm) == 1 and "Ana gave you kudos" in dm[0].text
    assert "thanks for the demo #teamwork" in dm[0].text
    post = port.in_conversation("general")
    assert len(post) == 1 and "gave kudos to @Bo" in post[0].text
    stats = await run(core, "kudos stats", actor="bo")
    assert "received: 1 this week, 1 this month, 1 all time" in stats


async def test_refuses_self_and_bots(core: Allybot, port: MemoryPort) -> None:
    out = await run(core, "kudos <@ana> <@deploybot> great")
    assert "can't give kudos to yourself" in out
    assert "Deploybot is a bot" in out
    await core.run_due()
    assert port.posted == []


async def test_usage_errors(core: Allybot) -> None:
    assert "Who are you thanking" in await run(core, "kudos thanks a lot")
    assert "Say what you're thanking them for" in await run(core, "kudos <@bo>")
    assert "keep it under 1000" in await run(core, "kudos <@bo> " + "x" * 1001)
    assert "Did you mean" in await run(core, "kudoz <@bo> hi")


async def test_daily_allowance_in_givers_time_zone(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    # Ana is in Paris (UTC+1): 10:00 UTC is 11:00 there; midnight is 23:00 UTC.
    for _ in range(5):
        assert "Kudos sent" in await run(core, "kudos <@bo> thanks")
    out = await run(core, "kudos <@cy> thanks")
    assert "used all 5 kudos" in out and "resets at 00:00 CET (in 13 h 0 min)" in out
    clock.advance(timedelta(hours=12, minutes=59))  # 22:59 UTC, still the same day in Paris
    assert "used all 5" in await run(core, "kudos <@cy> thanks")
    clock.advance(timedelta(minutes=2))  # 23:01 UTC: a new day in Paris
    assert "Kudos sent" in await run(core, "kudos <@cy> thanks")


async def test_multi_recipient_all_or_nothing(core: Allybot, port: MemoryPort) -> None:
    for _ in range(4):
        await run(core, "kudos <@bo> thanks")
    out = await run(core, "kudos <@cy> and <@dee> thanks")
    assert "1 kudos left today but named 2 people" in out
    assert port.dms_to("cy") == [] and port.dms_to("dee") == []


async def test_replayed_command_counts_once(core: Allybot, port: MemoryPort) -> None:
    await run(core, "kudos <@bo> thanks", event_id="same")
    again = await run(core, "kudos <@bo> thanks", event_id="same")
    assert "Already done" in again
    assert len(port.dms_to("bo")) == 1
    assert "1 all time" in await run(core, "kudos stats <@bo>")


async def test_reaction_gives_and_removal_takes_back(core: Allybot, port: MemoryPort) -> None:
    now = core.services.clock.now()
    msg = MessageRef(GENERAL, "42", link="https://chat.example/42")
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="clap", event_id="e1"))
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="clap", event_id="e1"))
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="tada", event_id="e2"))
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="thumbsup"))
    await core.run_due()
    assert len(port.dms_to("bo")) == 1  # one kudos per giver per message
    assert "1 all time" in await run(core, "kudos stats <@bo>")
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="clap", added=False))
    assert "1 all time" in await run(core, "kudos stats <@bo>")  # :tada: still holds it
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="tada", added=False))
    assert "0 all time" in await run(core, "kudos stats <@bo>")


async def test_reaction_on_own_message_is_refused_privately(
    core: Allybot, port: MemoryPort
) -> None:
    now = core.services.clock.now()
    msg = MessageRef(GENERAL, "7")
    await core.handle(reaction(user("bo"), msg, user("bo"), now))
    await core.run_due()
    notes = port.private_to("bo")
    assert len(notes) == 1 and "yourself" in notes[0].text


async def test_failed_delivery_is_retried(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    port.fail_sends = 1
    await run(core, "kudos <@bo> thanks")
    assert port.dms_to("bo") == [] or len(port.dms_to("bo")) == 1
    clock.advance(timedelta(seconds=5))
    await core.run_due()
    assert len(port.dms_to("bo")) == 1


async def test_mentions_in_a_reason_are_named_not_pinged(core: Allybot, port: MemoryPort) -> None:
    await run(core, "kudos <@bo> for pairing with <@cy> all week")
    dm = port.dms_to("bo")[0]
    assert "for pairing with @Cy all week" in dm.text
    kinds = [part.kind for part in dm.message.text]
    assert "mention" not in kinds  # Cy is named, not notified


async def test_announcement_channel_gets_every_kudos_and_edits_on_take_back(
    core: Allybot, port: MemoryPort
) -> None:
    assert "Saved" in await run(core, "config kudos-channel kudos-wall")
    now = core.services.clock.now()
    msg = MessageRef(GENERAL, "99")
    await core.handle(reaction(user("cy"), msg, user("bo"), now, emoji="raised_hands"))
    await core.run_due()
    wall = port.in_conversation("kudos-wall")
    assert len(wall) == 1 and "Cy gave kudos to @Bo with :raised_hands:" in wall[0].text
    assert wall[0].message.text[-1].kind != "mention"  # the wall names people, it doesn't ping
    await core.handle(reaction(user("cy"), msg, user("bo"), now, emoji="raised_hands", added=False))
    await core.run_due()
    assert len(port.updates) == 1
    sent, edited = port.updates[0]
    assert sent == wall[0].sent and "Kudos taken back" in plain_text(edited.text)
    assert "You took back your kudos to Bo" in port.private_to("cy")[0].text
    # Reacting again restores the kudos and the post, without a second DM.
    await core.handle(reaction(user("cy"), msg, user("bo"), now, emoji="raised_hands"))
    await core.run_due()
    assert len(port.dms_to("bo")) == 1
    assert "gave kudos to @Bo" in plain_text(port.updates[-1][1].text)
    assert "1 all time" in await run(core, "kudos stats <@bo>")


async def test_reacting_to_a_kudos_post_seconds_it(core: Allybot, port: MemoryPort) -> None:
    await run(core, "kudos <@bo> <@dee> for the launch #ownership")
    post = port.in_conversation("general")[0]
    assert post.sent is not None
    bot_post = MessageRef(GENERAL, post.sent.message_id)
    await core.handle(reaction(user("cy"), bot_post, None, core.services.clock.now()))
    await core.run_due()
    seconded = [p.text for p in port.dms_to("bo")]
    assert len(seconded) == 2 and "Cy gave you kudos: “for the launch #ownership”" in seconded[1]
    assert len(port.dms_to("dee")) == 2


async def test_message_action_thanks_the_author_once(core: Allybot, port: MemoryPort) -> None:
    from bot.events import MessageActionInvoked

    msg = MessageRef(GENERAL, "5", link="https://chat.example/5")

    def action(reason: str, event_id: str) -> MessageActionInvoked:
        return MessageActionInvoked(
            event_id=event_id,
            actor=user("ana"),
            occurred_at=core.services.clock.now(),
            action="give_kudos",
            message=msg,
            message_author=user("bo"),
            inputs={"reason": reason},
        )

    empty = await core.handle(action("  ", "a0"))
    assert empty is not None and "Say what you're thanking" in plain_text(empty.message.text)
    first = await core.handle(action("clear answer #helpful", "a1"))
    assert first is not None and "Kudos sent to @Bo" in plain_text(first.message.text)
    again = await core.handle(action("still great", "a2"))
    assert again is not None and "already thanked Bo" in plain_text(again.message.text)
    await core.run_due()
    dm = port.dms_to("bo")
    assert len(dm) == 1 and "https://chat.example/5" in dm[0].text


async def test_stats_windows_follow_the_viewers_week(core: Allybot, clock: ManualClock) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 15, 12, 0, tzinfo=UTC))  # Sunday
    await run(core, "kudos <@bo> sunday thanks")
    clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))  # Monday: a new week
    await run(core, "kudos <@bo> monday thanks")
    out = await run(core, "kudos stats <@bo>", actor="cy")
    assert "received: 1 this week, 2 this month, 2 all time" in out
    assert "Usage: kudos stats" in await run(core, "kudos stats bo")
