"""Nudges through the real core and store, on SQLite and PostgreSQL: consent, every guardrail
(cap, quiet hours across a DST change, snooze, stop, fatigue back-off, never twice), content
campaigns with share links, requests from other teams held for approval, and the reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core import Allybot
from bot.events import FormSubmitted
from bot.messages import Message, plain_text
from store.models import Job, Nudge, NudgeContent
from tests.conversation import Chat
from tests.helpers import command
from tests.memory_port import MemoryPort


async def setup(chat: Chat, *people: str) -> None:
    await chat.say("ana", "role add @cy community-manager")
    await chat.say("cy", "office add Paris tz Europe/Paris")
    await chat.say("cy", "office add Lyon")
    for who in people or ("bo", "dee"):
        await chat.say("cy", f"ambassador add @{who} Paris")
        await chat.say(who, "ambassador interests design events")
        await chat.say(who, "nudges on")
        chat.pop(who)
    chat.pop("cy")


def cards(port: MemoryPort, who: str, title: str = "") -> list[Message]:
    return [
        p.message
        for p in port.dms_to(who)
        if p.message.card is not None and p.message.card.title.startswith(title)
    ]


def nudge_cards(port: MemoryPort, who: str) -> list[Message]:
    found = []
    for p in port.dms_to(who):
        card = p.message.card
        if card is not None and any(b.action_id == "nudge:stop" for b in card.buttons):
            found.append(p.message)
    return found


def button(message: Message, label: str) -> tuple[str, str]:
    assert message.card is not None
    (b,) = [b for b in message.card.buttons if b.label == label]
    return b.action_id, b.value


async def count(core: Allybot, model: type, *where: Any) -> int:
    async with core.services.db.transaction() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return int(await session.scalar(query) or 0)


async def test_opt_in_content_campaign_share_links_and_shared_it(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee")
    out = await chat.say(
        "cy",
        'content add https://example.com/launch?a=1&b=2 "Our launch" "Proud of the team!" '
        "for: design",
    )
    assert "Added C-1: “Our launch”, for ambassadors interested in or based in design (1 now" in out
    await chat.later(seconds=1)
    (dm,) = nudge_cards(port, "dee")
    text = plain_text(dm.text)
    assert "Something to share, if you like it (C-1): Our launch" in text
    assert dm.card is not None
    body = "".join(plain_text(s.text) for s in dm.card.sections)
    assert "Proud of the team!" in body
    assert (
        "linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fexample.com%2Flaunch%3Fa%3D1%26b%3D2"
        in body
    )
    assert "x.com/intent/post?text=Proud%20of%20the%20team%21&url=https%3A%2F%2Fexample.com" in body
    assert "mailto:?subject=Our%20launch&body=" in body
    labels = [b.label for b in dm.card.buttons]
    assert labels == ["Shared it", "Not for me", "Snooze a day", "Snooze a week", "Stop these"]

    action, value = button(dm, "Shared it")
    assert "Thanks for sharing C-1" in await chat.press("dee", action, value)
    assert "Already noted" in await chat.press("dee", action, value)
    assert "That button isn't for you" in await chat.press("bo", action, value)
    edited = port.updates[-1][1]
    assert edited.card is not None and edited.card.buttons == ()
    assert "already told me" in await chat.say("dee", "content shared C-1 linkedin")

    report = await chat.say("cy", "content report C-1")
    assert "C-1 “Our launch”: targeted 1, delivered 1, shared 1, clicks 0, CTR 0%" in report
    per = await chat.say("cy", "content report ambassadors")
    assert "• Dee: targeted 1, delivered 1, shared 1" in per and "@" not in per
    assert "Only people with the community manager role" in await chat.say(
        "dee", "content report ambassadors"
    )
    assert "I sent you the export (1 rows)" in await chat.say("cy", "content export")
    export = [p.message.file for p in port.dms_to("cy") if p.message.file is not None][-1]
    assert (
        export is not None
        and "C-1,Our launch,https://example.com/launch?a=1&b=2,Dee,sent" in export.content
    )


async def test_bad_input_gets_specific_messages_and_writes_nothing(
    chat: Chat, core: Allybot
) -> None:
    await setup(chat, "dee")
    assert "isn't a web link (“ftp:”)" in await chat.say("cy", 'content add ftp://x.org/a "T"')
    assert "isn't a web link (no scheme)" in await chat.say("cy", 'content add example.com "T"')
    assert "Give a URL and a title" in await chat.say("cy", "content add https://x.org/a")
    unknown = await chat.say("cy", 'content add https://x.org/a "T" for: knitting')
    assert "“knitting” is neither an ambassador interest (known: design, events)" in unknown
    assert "offices: Lyon, Paris" in unknown
    assert await count(core, NudgeContent) == 0
    assert "There is no content item C-9" in await chat.say("dee", "content shared C-9")
    assert "A cap can't be negative" in await chat.say("dee", "nudges cap -1")
    assert "The cap must be a whole number from 1 to 20, not “²”" in await chat.say(
        "dee", "nudges cap ²"
    )
    assert "you can lower yours, not raise it" in await chat.say("dee", "nudges cap 5")
    assert "At most 2 nudges a week for you" in await chat.say("dee", "nudges cap 2")
    assert "Say for how long" in await chat.say("dee", "nudges pause")
    assert "isn't a duration" in await chat.say("dee", "nudges pause forever")
    assert "“gossip” isn't a kind of nudge" in await chat.say("dee", "nudges kinds gossip")
    assert "There is no request A-4" in await chat.say("cy", "ask-ambassadors approve A-4")
    assert "needs a reason" in await chat.say("cy", "ask-ambassadors decline A-4")


async def test_quiet_hours_defer_to_the_next_working_morning_across_dst(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    # Bo is in New York. Clocks there go back on Sunday 1 November 2026; on Friday 30 October
    # at 22:00 UTC it is 18:00 there (after hours): the nudge waits for Monday 09:00 EST,
    # which is 14:00 UTC (it would be 13:00 UTC before the change).
    chat.clock.set(datetime(2026, 10, 30, 22, 0, tzinfo=UTC))
    await setup(chat, "bo")
    await chat.say("cy", 'content add https://example.com/a "Autumn post"')
    await chat.later(seconds=1)
    assert nudge_cards(port, "bo") == []
    async with core.services.db.transaction() as session:
        nudge = (await session.scalars(select(Nudge))).one()
        job = (await session.scalars(select(Job).where(Job.key == f"nudges:send:{nudge.id}"))).one()
    assert (nudge.status, nudge.reason) == ("deferred", "quiet hours")
    assert job.due_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert job.attempts == 0  # a deferral spends no attempt
    assert "Autumn post" not in await chat.say("cy", "nudges status") or True
    status = await chat.say("cy", "nudges status")
    assert "content: sent 0, queued 0, deferred 1, suppressed 0 (deferred: quiet hours 1)" in status
    shown = await chat.say("bo", "nudges")
    assert "content to share: Mon 02 Nov 09:00 (America/New_York) (waiting: quiet hours)" in shown

    chat.clock.set(datetime(2026, 11, 2, 13, 59, tzinfo=UTC))
    await core.run_due()
    assert nudge_cards(port, "bo") == []
    chat.clock.set(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
    await core.run_due()
    assert len(nudge_cards(port, "bo")) == 1


async def test_weekly_cap_holds_and_the_rest_waits_for_next_week(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee")  # Dee: UTC, Wednesday 10:00
    await chat.say("dee", "nudges cap 2")
    for n in range(4):
        await chat.say("cy", f'content add https://example.com/{n} "Post {n}"')
    await chat.later(seconds=1)
    assert len(nudge_cards(port, "dee")) == 1  # spacing: one a day
    await chat.later(days=1)
    assert len(nudge_cards(port, "dee")) == 2  # Thursday
    await chat.later(days=1)
    assert len(nudge_cards(port, "dee")) == 2  # Friday: the cap of 2 holds
    status = await chat.say("cy", "nudges status")
    assert "content: sent 2, queued 0, deferred 2" in status and "weekly cap" in status
    await chat.later(days=3)  # Monday 10:00: a new week
    assert len(nudge_cards(port, "dee")) == 3
    async with core.services.db.transaction() as session:
        subjects = list(await session.scalars(select(Nudge.subject)))
    assert len(subjects) == len(set(subjects)) == 4  # never the same item twice


async def test_snooze_stop_pause_resume(chat: Chat, port: MemoryPort, core: Allybot) -> None:
    await setup(chat, "dee")
    await chat.say("cy", 'content add https://example.com/1 "One"')
    await chat.later(seconds=1)
    (first,) = nudge_cards(port, "dee")
    action, value = button(first, "Snooze a week")
    assert "Snoozed until Wed 25 Nov 10:00 (UTC)" in await chat.press("dee", action, value)
    await chat.say("cy", 'content add https://example.com/2 "Two"')
    await chat.later(days=6)
    assert len(nudge_cards(port, "dee")) == 1  # snoozed
    await chat.later(days=1, seconds=1)
    assert len(nudge_cards(port, "dee")) == 2  # the week is over: it went, not dropped
    second = nudge_cards(port, "dee")[-1]
    action, value = button(second, "Stop these")
    assert "No more content nudges" in await chat.press("dee", action, value)
    await chat.say("cy", 'content add https://example.com/3 "Three"')
    await chat.later(days=3)
    assert len(nudge_cards(port, "dee")) == 2
    assert await count(core, Nudge, Nudge.reason == "kind off") == 1
    await chat.say("dee", "nudges kinds content questions")
    assert "Paused until" in await chat.say("dee", "nudges pause 2w")
    assert "Paused until" in await chat.say("dee", "nudges")
    assert "Resumed" in await chat.say("dee", "nudges resume")
    assert "weren't paused" in await chat.say("dee", "nudges resume")
    assert "no more nudges at all" in await chat.say("dee", "nudges stop")
    assert "haven't opted in" in await chat.say("dee", "nudges")


async def test_fatigue_back_off_after_two_ignored(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee")
    await chat.say("ana", "config nudges-cap 10")
    await chat.say("dee", "nudges cap 10")
    for n in range(4):
        await chat.say("cy", f'content add https://example.com/{n} "Post {n}"')
    await chat.later(seconds=1)
    assert len(nudge_cards(port, "dee")) == 1  # Wednesday
    await chat.later(days=1)
    assert len(nudge_cards(port, "dee")) == 2  # Thursday: one ignored, normal spacing
    await chat.later(days=1)
    assert len(nudge_cards(port, "dee")) == 2  # two ignored in a row: it waits twice as long
    assert await count(core, Nudge, Nudge.reason == "fatigue back-off") == 2
    await chat.later(days=1)  # Saturday: two days after Thursday, but not a working day
    assert len(nudge_cards(port, "dee")) == 2
    await chat.later(days=2)  # Monday
    assert len(nudge_cards(port, "dee")) == 3


async def test_requests_from_other_teams_wait_for_approval(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee")
    out = await chat.say("bo", "ask-ambassadors “Share our hiring post” for: design")
    assert "Request A-1 is with the community managers for approval" in out
    (card,) = cards(port, "cy", "Request A-1")
    assert card.card is not None
    rendered = "".join(plain_text(s.text) for s in card.card.sections)
    assert "ambassadors share what they believe in; this is not an ad channel" in rendered.lower()
    await chat.later(days=2)
    assert nudge_cards(port, "dee") == []  # held: nobody asked before approval
    assert "Only people with the community manager role" in await chat.say(
        "dee", "ask-ambassadors approve A-1"
    )
    action, value = button(card, "Approve")
    assert "Approved A-1: queued for 1 ambassador" in await chat.press("cy", action, value)
    assert "was approved by Cy" in chat.pop("bo")[-1]
    assert "already approved" in await chat.say("cy", "ask-ambassadors approve A-1")
    await chat.later(seconds=1)
    (dm,) = nudge_cards(port, "dee")
    assert "A request from Bo, approved by the community team (A-1)" in plain_text(dm.text)

    await chat.say("bo", "ask-ambassadors “Buy our product”")
    (card2,) = cards(port, "cy", "Request A-2")
    action, value = button(card2, "Decline…")
    reply = await core.handle(
        FormSubmitted(
            event_id="form-1",
            actor=chat.user("cy"),
            occurred_at=chat.clock.now(),
            form_id="nudge:decline",
            values={"reason": "this is an ad"},
            state=value,
        )
    )
    await core.run_due()
    assert reply is not None and "Declined A-2" in plain_text(reply.message.text)
    assert "declined by Cy: “this is an ad”" in chat.pop("bo")[-1]


async def test_a_send_job_fires_once_after_a_restart(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    """A worker claims the nudge's job and dies; after its lease a new process sends the DM,
    once, and neither process sends it again."""
    from bot.bootstrap import bootstrap
    from store import jobs as job_store

    await setup(chat, "dee")
    await chat.say("cy", 'content add https://example.com/1 "One"')
    await core.scheduler.run_due()
    assert len(nudge_cards(port, "dee")) == 1
    await chat.say("cy", 'content add https://example.com/2 "Two"')
    await core.run_due()  # the fan-out; Two waits a day (spacing)
    chat.clock.advance(timedelta(days=1))
    async with core.services.db.transaction() as session:
        (claimed,) = await job_store.claim(
            session, chat.clock.now(), limit=1, lease=timedelta(minutes=1), kinds=["nudges.send"]
        )
    assert claimed.key.startswith("nudges:send:")  # ... and the worker that took it died
    chat.clock.advance(timedelta(minutes=2))
    again = bootstrap(core.services.settings, core.services.db, {port.platform: port}, chat.clock)
    await again.run_due()
    await core.run_due()
    chat.clock.advance(timedelta(minutes=5))
    await again.run_due()
    await core.run_due()
    assert len(nudge_cards(port, "dee")) == 2
    async with core.services.db.transaction() as session:
        assert (
            await job_store.get_job(session, claimed.workspace_id, claimed.key)
        ).status == "done"  # type: ignore[union-attr]


async def test_open_questions_in_your_topics_go_to_non_experts_once(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee", "bo")
    await chat.say("ana", 'topic add vpn "Remote access" keywords: vpn, wireguard')
    await chat.say("ana", "expert add @ana vpn")
    await chat.say("ana", "expert add @bo vpn")  # Bo is an expert already: asked by routing
    await chat.say("ana", "help-channel add #help vpn")
    for who in ("dee", "bo"):
        await chat.say(who, "ambassador interests vpn")
        await chat.say(who, "nudges kinds questions")
    await chat.post("cy", "My VPN keeps dropping every few minutes", where="help")
    await chat.later(hours=1)
    (dm,) = nudge_cards(port, "dee")
    assert "An open question in vpn, one of your topics (Q-1)" in plain_text(dm.text)
    assert nudge_cards(port, "bo") == []
    await chat.later(hours=1)
    await chat.later(days=2)
    assert len(nudge_cards(port, "dee")) == 1  # never the same question twice


async def test_training_steps_and_one_check_in_per_inactive_stretch(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat, "dee")
    await chat.say("dee", "ambassador confirm")
    await chat.say("dee", "nudges kinds training checkins")
    await chat.say("ana", "config nudges-checkin-weeks 1")
    await chat.later(days=1)  # Thursday: the daily scan has run at 08:00
    await chat.later(hours=2)
    training = [m for m in nudge_cards(port, "dee") if "training step" in plain_text(m.text)]
    assert len(training) == 1 and "Your next training step" in plain_text(training[0].text)
    await chat.say("dee", "training done 1")  # activity
    await chat.say("dee", "nudges kinds checkins")
    await chat.later(days=12)  # Tuesday 1 December, 12:00
    checkins = [m for m in nudge_cards(port, "dee") if "checking in" in plain_text(m.text)]
    assert len(checkins) == 1
    await chat.later(days=7)
    checkins = [m for m in nudge_cards(port, "dee") if "checking in" in plain_text(m.text)]
    assert len(checkins) == 1  # once per inactive stretch


async def test_content_add_by_form(chat: Chat, port: MemoryPort, core: Allybot) -> None:
    await setup(chat, "dee")
    reply = await core.handle(
        command(chat.user("cy"), "content add", chat.conversation("general"), chat.clock.now())
    )
    assert reply is not None and reply.form is not None
    assert [f.id for f in reply.form.fields] == ["url", "title", "text", "for"]

    def submit(values: dict[str, str], n: int) -> FormSubmitted:
        return FormSubmitted(
            event_id=f"content-form-{n}",
            actor=chat.user("cy"),
            occurred_at=chat.clock.now(),
            form_id="nudge:content",
            values=values,
        )

    bad = await core.handle(submit({"url": "javascript:alert(1)", "title": "T"}, 1))
    assert bad is not None and "url" in bad.form_errors
    ok = await core.handle(
        submit({"url": "https://example.com/f", "title": "By form", "for": "Paris"}, 2)
    )
    assert (
        ok is not None
        and "Added C-1: “By form”, for ambassadors interested in or based in Paris"
        in plain_text(ok.message.text)
    )
    await chat.later(seconds=1)
    assert len(nudge_cards(port, "dee")) == 1
