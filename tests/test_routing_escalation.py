"""Who is asked and when: escalation levels in working minutes, nobody on duty, time zones
across the date line, a daylight-saving change, pause, cap, presence, "not my area", snooze,
reminders, the day check, and escalations that fire exactly once after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.core import Allybot
from bot.ports import Presence
from bot.settings import Settings
from store import Database
from tests.conversation import Chat
from tests.memory_port import MemoryPort
from tests.test_routing_flow import asks, port, setup, thread

__all__ = ["port"]  # the routing people (see test_routing_flow)


async def test_escalates_to_the_next_allies_then_the_community_managers(
    chat: Chat, port: MemoryPort
) -> None:
    await chat.say("ana", "role add @max community-manager")
    await setup(chat)
    await chat.post("bo", "vpn certificate expired", where="help")
    assert asks(chat, "dee") and asks(chat, "eve") and not asks(chat, "fay")
    await chat.later(minutes=29)
    assert not asks(chat, "fay")
    await chat.later(minutes=2)  # 30 working minutes: everyone is on duty at 10:00 UTC
    assert len(asks(chat, "fay")) == 1 and not asks(chat, "max")
    assert any("so I've also asked Fay" in t for t in thread(port))
    await chat.later(minutes=31)
    assert len(asks(chat, "max")) == 1
    (told,) = [t for t in thread(port) if "community team" in t]
    assert "(Max)" in told and "Expect an answer within about 30 working minutes" in told
    await chat.later(hours=3)
    assert not asks(chat, "dee") and not asks(chat, "max")  # the last level: no more asks


async def test_escalation_clock_waits_while_nobody_is_on_duty(
    chat: Chat, port: MemoryPort, clock: ManualClock
) -> None:
    await setup(chat, "dee", "eve")
    clock.set(datetime(2026, 11, 18, 17, 10, tzinfo=UTC))  # Dee on (UTC), Eve off (Berlin 18:10)
    await chat.post("bo", "vpn slow", where="help")
    assert asks(chat, "dee") and not asks(chat, "eve")
    await chat.later(minutes=30)  # 17:40: Dee's day ended at 17:30 after 20 working minutes
    assert not asks(chat, "eve")
    # Eve is on duty from 08:00 UTC (09:00 Berlin); 10 more working minutes, then she's asked.
    clock.set(datetime(2026, 11, 19, 8, 5, tzinfo=UTC))
    await chat.later()
    assert not asks(chat, "eve")
    await chat.later(minutes=6)
    assert len(asks(chat, "eve")) == 1


async def test_nobody_available_asks_the_community_manager_and_tells_the_wait(
    chat: Chat, port: MemoryPort
) -> None:
    await chat.say("ana", "role add @max community-manager")
    await setup(chat, "cy")  # Tokyo: 19:00, off duty
    await chat.post("bo", "vpn on my phone?", where="help")
    assert not asks(chat, "cy") and len(asks(chat, "max")) == 1
    (reply,) = thread(port)
    assert "nobody who knows about it is available now, so I asked the community team" in reply
    assert "expect an answer within about 30 working minutes" in reply


async def test_nobody_on_duty_waits_for_the_first_and_says_when(
    chat: Chat, port: MemoryPort
) -> None:
    await setup(chat, "cy")  # and no community manager
    await chat.post("bo", "vpn on my phone?", where="help")
    assert not asks(chat, "cy")
    (waiting,) = thread(port)
    assert "nobody who can help with vpn is on duty right now. Cy is next" in waiting
    assert "Thu 19 Nov 19:00 (America/New_York)" not in waiting
    assert "Wed 18 Nov 19:00 (America/New_York)" in waiting  # Thu 09:00 Tokyo, Bo's time
    assert "waiting" in await chat.say("ana", "questions")
    await chat.later(hours=13, minutes=59)
    assert not asks(chat, "cy")
    await chat.later(minutes=1)
    assert len(asks(chat, "cy")) == 1
    await chat.later(hours=1)
    assert not asks(chat, "cy")


async def test_time_zones_across_the_date_line(
    chat: Chat, port: MemoryPort, clock: ManualClock
) -> None:
    port.add("kiri", "Kiri", tz="Pacific/Kiritimati")  # UTC+14
    port.add("pago", "Pago", tz="Pacific/Pago_Pago")  # UTC-11
    await setup(chat, "kiri", "pago")
    # Friday 20 Nov 20:00 UTC: Saturday 10:00 for Kiri (weekend), Friday 09:00 for Pago.
    clock.set(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
    await chat.post("bo", "vpn again", where="help")
    assert len(asks(chat, "pago")) == 1 and not asks(chat, "kiri")
    # Sunday 22 Nov 20:00 UTC: Monday 10:00 for Kiri, Sunday for Pago.
    clock.set(datetime(2026, 11, 22, 20, 0, tzinfo=UTC))
    await chat.post("bo", "another vpn thing", where="help")
    kiri = asks(chat, "kiri")
    # Q-1 waited for her (nobody else was left to ask), and Q-2 is hers at once.
    assert [t[:24] for t in kiri] == ["🙋 Can you help with Q-1?", "🙋 Can you help with Q-2?"]
    assert not asks(chat, "pago")


async def test_working_hours_follow_a_daylight_saving_change(
    chat: Chat, port: MemoryPort, clock: ManualClock
) -> None:
    await setup(chat, "eve")  # Berlin: CET (UTC+1) until 28 March 2027, then CEST (UTC+2)
    clock.set(datetime(2027, 3, 26, 7, 30, tzinfo=UTC))  # Friday: 08:30 in Berlin
    await chat.post("bo", "vpn before the change", where="help")
    assert not asks(chat, "eve")
    await chat.later(minutes=30)  # 09:00 CET
    assert len(asks(chat, "eve")) == 1
    clock.set(datetime(2027, 3, 29, 7, 30, tzinfo=UTC))  # Monday: 09:30 CEST
    await chat.post("bo", "vpn after the change", where="help")
    assert len(asks(chat, "eve")) == 1


async def test_paused_capped_and_away_allies_are_not_asked(chat: Chat, port: MemoryPort) -> None:
    port.add("gil", "Gil", tz="UTC")
    await setup(chat, "dee", "eve", "fay", "gil")
    assert "paused until" in await chat.say("dee", "availability pause 3d")
    assert "Saved" in await chat.say("eve", "availability max 1")
    await chat.say("ana", "topic add laptops")
    await chat.say("ana", "expert add @eve laptops")
    await chat.say("bo", "ask my laptops screen flickers", where="dm")
    assert "You're on Q-1" in await chat.say("eve", "question claim Q-1")
    chat.pop("eve")
    port.presences["fay"] = Presence(status_text="Vacationing", status_emoji="palm_tree")
    await chat.post("bo", "vpn trouble", where="help")
    asked = {who for who in ("dee", "eve", "fay", "gil") if asks(chat, who)}
    assert asked == {"gil"}, asked  # paused, at cap, away: only Gil
    port.presences["gil"] = Presence(do_not_disturb=True)
    assert "Saved" in await chat.say("dee", "availability resume")
    await chat.later(minutes=3)  # presence answers are cached for two minutes
    await chat.post("cy", "vpn question from Cy", where="help")
    asked = {who for who in ("dee", "eve", "fay", "gil") if asks(chat, who)}
    assert asked == {"dee"}, asked


async def test_not_my_area_asks_the_next_and_lowers_the_match(chat: Chat, port: MemoryPort) -> None:
    await setup(chat)
    await chat.post("bo", "vpn split tunnel", where="help")
    qid = chat.buttons("dee")[0][2]
    assert "I've asked Fay instead" in await chat.press("dee", "routing:pass", qid)
    assert len(asks(chat, "fay")) == 1
    assert "passed on Q-1 already" in await chat.press("dee", "routing:pass", qid)
    assert "weren't asked about Q-1" in await chat.say("cy", "question pass Q-1")
    for who in ("dee", "eve", "fay"):
        chat.pop(who)
    await chat.post("cy", "vpn dns leak", where="help")
    # Dee's match for vpn went down: Eve and Fay are asked before her now.
    assert not asks(chat, "dee") and asks(chat, "eve")


async def test_fairness_spreads_asks_over_the_week(chat: Chat, clock: ManualClock) -> None:
    await setup(chat)
    await chat.post("bo", "vpn one", where="help")
    assert asks(chat, "dee") and asks(chat, "eve")
    clock.advance(timedelta(minutes=10))
    await chat.post("cy", "vpn two", where="help")
    assert asks(chat, "fay") and asks(chat, "dee") and not asks(chat, "eve")


async def test_snooze_moves_the_escalation_and_reminds(chat: Chat) -> None:
    await setup(chat)
    await chat.post("bo", "vpn snooze", where="help")
    assert "remind you about Q-1" in await chat.say("dee", "question snooze Q-1 1h")
    await chat.later(minutes=31)
    assert not asks(chat, "fay")  # the escalation waits for the snooze
    await chat.later(minutes=30)
    assert len(asks(chat, "fay")) == 1
    assert any("Q-1 still needs someone" in t for t in chat.pop("dee"))


async def test_claimed_reminder_and_the_day_check(chat: Chat) -> None:
    await setup(chat)
    await chat.post("bo", "vpn reminder", where="help")
    await chat.say("dee", "question claim Q-1")
    await chat.later(hours=3, minutes=59)
    assert not any("still open" in t for t in chat.pop("dee"))
    await chat.later(minutes=2)  # 4 working hours of Dee's
    assert any("Q-1 is still open" in t for t in chat.pop("dee"))
    await chat.later(hours=20)  # one working day for Bo
    (check,) = [t for t in chat.pop("bo") if "Did you get an answer" in t]
    assert "Q-1" in check
    assert "nudged Dee" in await chat.press("bo", "routing:notyet", chat.buttons("bo")[-1][2])


async def test_a_pending_escalation_fires_exactly_once_after_a_restart(
    settings: Settings, db_url: str, clock: ManualClock, port: MemoryPort
) -> None:
    first_db = Database(db_url)
    first = bootstrap(settings, first_db, {port.platform: port}, clock)
    await setup(Chat(first, port, clock))
    await Chat(first, port, clock).post("bo", "vpn restart", where="help")
    await first_db.dispose()  # stops with the escalation pending

    for _ in range(2):  # two restarts after it was due: it fires once
        db = Database(db_url)
        fresh = MemoryPort(users=port.users)
        core: Allybot = bootstrap(settings, db, {fresh.platform: fresh}, clock)
        clock.advance(timedelta(minutes=31))
        await core.run_due()
        await core.run_due()
        yield_asks = [p for p in fresh.dms_to("fay") if "Can you help with Q-1" in p.text]
        if _ == 0:
            assert len(yield_asks) == 1
        else:
            assert not yield_asks
        await db.dispose()


async def test_not_yet_asks_the_community_team_and_presence_is_cached(
    chat: Chat, port: MemoryPort
) -> None:
    await chat.say("ana", "role add @max community-manager")
    await setup(chat)
    await chat.post("bo", "vpn not yet", where="help")
    calls = port.presence_calls
    assert calls >= 2  # Dee's, Eve's, Fay's and Max's presence, read once
    await chat.post("cy", "vpn twice", where="help")
    assert port.presence_calls == calls  # cached for two minutes
    question = next(b for b in chat.buttons("dee") if b[1] == "routing:claim")[2]
    assert "I've asked Max from the community team" in await chat.press(
        "bo", "routing:notyet", question
    )
    assert any("Can you help with Q-1" in t for t in chat.pop("max"))
    assert "Only the asker" in await chat.press("cy", "routing:notyet", question)
    assert "remind you about Q-1" in await chat.press("dee", "routing:snooze", question)
    assert "Q-1 is resolved" in await chat.press("bo", "routing:resolve", question)
    await chat.later(days=2)
    assert not [t for t in chat.pop("bo") if "Did you get an answer" in t]  # resolved: no check
