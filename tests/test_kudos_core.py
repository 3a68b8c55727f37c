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
    await core.scheduler.run_due()
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
    await core.scheduler.run_due()
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
    await core.scheduler.run_due()
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
    await core.scheduler.run_due()
    notes = port.private_to("bo")
    assert len(notes) == 1 and "yourself" in notes[0].text


async def test_failed_delivery_is_retried(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    port.fail_sends = 1
    await run(core, "kudos <@bo> thanks")
    assert port.dms_to("bo") == [] or len(port.dms_to("bo")) == 1
    clock.advance(timedelta(seconds=5))
    await core.scheduler.run_due()
    assert len(port.dms_to("bo")) == 1
