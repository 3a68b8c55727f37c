"""Feedback through the real core and store, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import timedelta

import pytest

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.core import Allybot
from bot.errors import UsageError
from bot.events import ActionPressed, FormSubmitted, MessageActionInvoked
from bot.feedback.rules import parse_number
from bot.ids import MessageRef
from bot.messages import Reply, ToConversation, plain_text
from bot.settings import Settings
from store import Database
from store import feedback as fb_store
from tests.conftest import GENERAL, WS, user
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort


async def handle(core: Allybot, text: str, actor: str = "ana", **kw: object) -> Reply:
    reply = await core.handle(
        command(user(actor), text, GENERAL, core.services.clock.now(), **kw)  # type: ignore[arg-type]
    )
    await core.run_due()
    assert reply is not None
    return reply


async def run(core: Allybot, text: str, actor: str = "ana", **kw: object) -> str:
    return plain_text((await handle(core, text, actor, **kw)).message.text)


async def setup(core: Allybot) -> None:
    await run(core, "config feedback-channel <#triage|triage>")
    await run(core, "role add <@cy> curator")


async def test_every_status_change_reaches_submitter_and_voters(
    core: Allybot, port: MemoryPort
) -> None:
    await setup(core)
    out = await run(core, "feedback the onboarding guide skips the VPN setup", actor="bo")
    assert "filed as FB-1" in out
    (card,) = port.in_conversation("triage")
    assert card.message.card is not None
    assert [b.action_id for b in card.message.card.buttons][:2] == [
        "feedback:ack",
        "feedback:assign",
    ]
    assert "Bo" in str(card.message.card)  # not anonymous: the curators see who sent it

    assert "counts (1 in all)" in await run(core, "feedback vote FB-1", actor="dee")
    assert "already voted" in await run(core, "feedback vote FB-1", actor="dee")
    assert "your own feedback" in await run(core, "feedback vote FB-1", actor="bo")

    steps = [
        ("ack", "acknowledged"),
        ("planned “in the Q3 plan”", "planned"),
        ("in progress", "in progress"),
        ("done “shipped in the new guide”", "done"),
    ]
    for i, (words, label) in enumerate(steps, start=1):
        out = await run(core, f"feedback status FB-1 {words}", actor="cy")
        assert f"FB-1 is now {label}" in out and "its submitter and 1 other" in out
        assert len(port.dms_to("bo")) == i and len(port.dms_to("dee")) == i
        assert f"it is now {label}" in port.dms_to("bo")[-1].text
    assert "in the Q3 plan" in port.dms_to("bo")[1].text
    assert "shipped in the new guide" in port.dms_to("dee")[3].text
    assert len(port.updates) >= 5  # the triage card followed every change

    history = await run(core, "feedback show FB-1", actor="dee")
    assert "filed by Bo" in history and "Cy: new → acknowledged" in history
    assert "planned → in progress" in history and "shipped in the new guide" in history


async def test_bad_input_gets_specific_messages(core: Allybot, port: MemoryPort) -> None:
    await setup(core)
    assert "Your feedback is empty" in await run(core, "feedback", actor="bo")
    assert "4,001 characters long; keep it to 4,000" in await run(
        core, "feedback " + "x" * 4001, actor="bo"
    )
    assert "There's no feedback FB-9" in await run(core, "feedback show FB-9")
    assert "“banana” is not a feedback id" in await run(core, "feedback vote banana")
    await run(core, "feedback slow builds", actor="bo")
    assert "FB-1 is new, so it can't become done; from new it can go to acknowledged" in (
        await run(core, "feedback status FB-1 done “fixed”", actor="cy")
    )
    assert "needs a message to its submitter" in await run(
        core, "feedback status FB-1 done", actor="cy"
    )
    assert "can't become planned" in await run(core, "feedback status FB-1 planned", actor="cy")
    assert "Declining FB-1 needs a reason" in await run(
        core, "feedback status FB-1 declined", actor="cy"
    )
    assert "“later” is not a feedback status" in await run(
        core, "feedback status FB-1 later", actor="cy"
    )
    assert "Only people with the curator role" in await run(
        core, "feedback status FB-1 ack", actor="dee"
    )
    await run(core, "feedback status FB-1 declined “we keep the current CI”", actor="cy")
    assert "it is closed" in await run(core, "feedback status FB-1 ack", actor="cy")
    assert "only open items take votes" in await run(core, "feedback vote FB-1", actor="dee")
    assert "not a status, a category" in await run(core, "feedback list banana")


async def test_anonymous_feedback_hides_the_sender_but_keeps_them_informed(
    core: Allybot, port: MemoryPort
) -> None:
    await setup(core)
    assert "without your name" in await run(
        core, "feedback anonymous <!channel> my manager ignores *all* ideas", actor="bo"
    )
    (card,) = port.in_conversation("triage")
    assert "Bo" not in str(card.message) and "anonymous" in str(card.message.card)
    assert card.message.text[1].text.startswith("<!channel>")  # plain text: escaped by adapters
    assert "Bo" not in await run(core, "feedback show FB-1", actor="cy")
    await run(core, "feedback export", actor="cy")
    (export,) = [p for p in port.dms_to("cy") if p.message.file]
    assert export.message.file is not None and "Bo" not in export.message.file.content
    rows = list(csv.DictReader(io.StringIO(export.message.file.content)))
    assert rows[0]["submitter"] == "anonymous" and rows[0]["id"] == "FB-1"
    await run(core, "feedback status FB-1 ack", actor="cy")
    assert "it is now acknowledged" in port.dms_to("bo")[-1].text


async def test_duplicate_moves_submitter_and_voters_and_tells_them(
    core: Allybot, port: MemoryPort
) -> None:
    await setup(core)
    await run(core, "feedback dark mode please", actor="bo")
    await run(core, "feedback a dark theme would help at night", actor="dee")
    await run(core, "feedback vote FB-2", actor="ana")
    out = await run(core, "feedback status FB-2 duplicate FB-1 “tracked in FB-1”", actor="cy")
    assert "FB-2 is now duplicate (a duplicate of FB-1)" in out
    assert "is a duplicate of FB-1" in port.dms_to("dee")[-1].text
    assert "is a duplicate of FB-1" in port.dms_to("ana")[-1].text
    listing = await run(core, "feedback list", actor="dee")
    assert "FB-1 new · 2 votes" in listing and "FB-2" not in listing
    await run(core, "feedback status FB-1 ack", actor="cy")
    assert "you voted for" in port.dms_to("dee")[-1].text  # now follows the original


async def test_form_and_buttons(core: Allybot, port: MemoryPort) -> None:
    await setup(core)
    now = core.services.clock.now()
    message = MessageRef(GENERAL, "77", link="https://chat.example/77")
    opened = await core.handle(
        MessageActionInvoked(
            event_id="ma1",
            actor=user("bo"),
            occurred_at=now,
            action="send_as_feedback",
            message=message,
            message_author=user("dee"),
            message_text="The wiki search never finds anything",
        )
    )
    assert opened is not None and opened.form is not None
    assert opened.form.fields[0].value == "The wiki search never finds anything"
    bad = await core.handle(
        FormSubmitted(
            event_id="f0",
            actor=user("bo"),
            occurred_at=now,
            form_id=opened.form.form_id,
            values={"text": " ", "category": "docs"},
            state=opened.form.state,
        )
    )
    assert bad is not None and "empty" in bad.form_errors["text"]
    good = await core.handle(
        FormSubmitted(
            event_id="f1",
            actor=user("bo"),
            occurred_at=now,
            form_id=opened.form.form_id,
            values={"text": "Wiki search is broken", "category": "docs", "anonymous": "no"},
            state=opened.form.state,
        )
    )
    assert good is not None and "FB-1" in plain_text(good.message.text) and not good.form_errors
    pressed = await core.handle(
        ActionPressed(
            event_id="a1",
            actor=user("cy"),
            occurred_at=now,
            action_id="feedback:decline",
            value="1",
        )
    )
    assert pressed is not None and pressed.form is not None
    no_reason = await core.handle(
        FormSubmitted(
            event_id="f2",
            actor=user("cy"),
            occurred_at=now,
            form_id=pressed.form.form_id,
            values={"reason": ""},
            state=pressed.form.state,
        )
    )
    assert no_reason is not None and "reason" in no_reason.form_errors
    await core.handle(
        ActionPressed(
            event_id="a2", actor=user("cy"), occurred_at=now, action_id="feedback:ack", value="1"
        )
    )
    await core.run_due()
    assert "acknowledged" in port.dms_to("bo")[-1].text
    history = await run(core, "feedback show FB-1")
    assert "docs" in history and "https://chat.example/77" in history


async def test_reaction_files_on_behalf_of_the_author(core: Allybot, port: MemoryPort) -> None:
    await setup(core)
    await run(core, "config feedback-reaction memo")
    msg = MessageRef(GENERAL, "55", link="https://chat.example/55")
    now = core.services.clock.now()
    await core.handle(reaction(user("ana"), msg, user("bo"), now, emoji="memo"))
    await core.handle(reaction(user("cy"), msg, user("bo"), now, emoji="memo"))  # once only
    await core.run_due()
    (told,) = port.dms_to("bo")
    assert "Ana filed your message as feedback FB-1" in told.text
    assert len(port.in_conversation("triage")) == 1


async def test_aging_reminder_fires_once_after_a_restart(
    settings: Settings, db_url: str, clock: ManualClock
) -> None:
    first_db = Database(db_url)
    port = MemoryPort()
    for name in ("ana", "bo", "cy"):
        port.add(name, name.capitalize())
    first = bootstrap(settings, first_db, {port.platform: port}, clock)
    await run(first, "role add <@cy> curator")
    await run(first, "feedback please add a #help channel", actor="bo")  # Wednesday 10:00
    await first_db.dispose()  # the process stops with the reminder pending

    second_db = Database(db_url)
    second_port = MemoryPort()
    second = bootstrap(settings, second_db, {second_port.platform: second_port}, clock)
    clock.advance(timedelta(days=1, hours=23))  # Friday 09:00: not yet two working days
    await second.run_due()
    assert not [p for p in second_port.dms_to("cy") if "waiting" in p.text]
    clock.advance(timedelta(hours=2))  # Friday 11:00
    await second.run_due()
    await second.run_due()
    reminders = [p for p in second_port.dms_to("cy") if "waiting for an answer" in p.text]
    assert len(reminders) == 1 and "FB-1" in reminders[0].text
    await second_db.dispose()

    third_db = Database(db_url)  # another restart: nothing fires twice
    third_port = MemoryPort()
    third = bootstrap(settings, third_db, {third_port.platform: third_port}, clock)
    await third.run_due()
    assert not [p for p in third_port.dms_to("cy") if "waiting" in p.text]
    await third_db.dispose()


async def test_daily_summary_and_weekly_digest(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    await setup(core)
    await run(core, "config leaders-channel <#leaders|leaders>")
    await run(core, "feedback slow CI", actor="bo")
    await run(core, "feedback category FB-1 product", actor="cy")
    await run(core, "feedback more meetups in Lagos", actor="dee")
    await run(core, "feedback vote FB-2", actor="bo")
    await run(core, "feedback status FB-2 ack", actor="cy")
    await run(core, "feedback status FB-2 declined “no budget this year”", actor="cy")
    clock.advance(timedelta(days=5))  # Monday 23 November, 10:00 UTC
    await core.run_due()
    summaries = [p for p in port.in_conversation("triage") if "not acknowledged" in p.text]
    assert len(summaries) == 1 and "FB-1" in summaries[0].text and "FB-2" not in summaries[0].text
    (digest,) = port.in_conversation("leaders")
    assert "1 closed" in digest.text and digest.message.card is not None
    body = str(digest.message.card)
    assert "product: 1" in body and "no budget this year" in body
    clock.advance(timedelta(days=1))
    await core.run_due()
    assert len([p for p in port.in_conversation("triage") if "not acknowledged" in p.text]) == 2
    assert len(port.in_conversation("leaders")) == 1  # weekly: next Monday


async def test_replayed_commands_count_once(core: Allybot, port: MemoryPort) -> None:
    await setup(core)
    await run(core, "feedback flaky wifi", actor="bo", event_id="e1")
    assert "Already filed as FB-1" in await run(
        core, "feedback flaky wifi", actor="bo", event_id="e1"
    )
    await run(core, "feedback vote FB-1", actor="dee", event_id="v1")
    await run(core, "feedback vote FB-1", actor="dee", event_id="v1")
    await run(core, "feedback status FB-1 ack", actor="cy", event_id="s1")
    assert "Already done" in await run(core, "feedback status FB-1 ack", actor="cy", event_id="s1")
    assert len(port.dms_to("bo")) == 1 and len(port.in_conversation("triage")) == 1
    assert [t for t in (p.target for p in port.posted) if isinstance(t, ToConversation)]
    assert WS.id == "acme"


async def aging(core: Allybot, clock: ManualClock) -> None:
    """Bo files FB-1 (Wednesday 10:00); two working days later nobody has acknowledged it."""
    await run(core, "feedback the meetup page has no map", actor="bo")
    clock.advance(timedelta(days=2, hours=1))  # Friday 11:00
    await core.run_due()
    await core.run_due()


async def test_a_configured_admin_gets_reminders_when_there_are_no_curators(
    core: Allybot, port: MemoryPort, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Ana is an admin through ALLYBOT_ADMINS only; nobody holds a role, there's no channel.
    await run(core, "feedback list", actor="ana")  # she is a member of the workspace now
    await aging(core, clock)
    reminders = [p for p in port.dms_to("ana") if "waiting for an answer" in p.text]
    assert len(reminders) == 1 and "FB-1" in reminders[0].text
    assert [p for p in port.dms_to("ana") if "not acknowledged" in p.text]  # the daily summary
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_reminder_with_nobody_to_tell_is_logged_as_an_error(
    core: Allybot, port: MemoryPort, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # No owner, no curator, no triage channel, and Ana (ALLYBOT_ADMINS) was never seen here.
    with caplog.at_level(logging.ERROR, logger="bot.feedback.jobs"):
        await aging(core, clock)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all("FB-1" in e and str(WS) in e and "nobody to remind" in e for e in errors)
    assert not [p for p in port.posted if "FB-1" in p.text]  # nobody was told, and it says so
    caplog.clear()
    await core.run_due()  # the jobs finished: no retry, no second error
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]


async def test_a_job_queued_before_payloads_named_the_workspace_still_runs(
    core: Allybot, port: MemoryPort
) -> None:
    await setup(core)
    await run(core, "feedback the meetup page has no map", actor="bo")
    ws_id = await core.services.directory.workspace_id(WS)
    async with core.services.db.transaction() as session:
        item = await fb_store.item_by_number(session, ws_id, 1)
    assert item is not None
    (feedback_cap,) = [c for c in core.capabilities if c.name == "feedback"]
    legacy = json.dumps({"workspace_id": ws_id, "item_id": item.id})  # no "workspace"
    await feedback_cap.jobs["feedback.aging"](legacy)
    await core.run_due()
    (reminder,) = [p for p in port.dms_to("cy") if "waiting for an answer" in p.text]
    assert "FB-1" in reminder.text


def test_item_ids_take_ascii_digits_only() -> None:
    assert [parse_number(t) for t in ("FB-42", "fb42", "#7", " 42 ")] == [42, 42, 7, 42]
    for token in ("FB-\u0664\u0662", "FB-\uff14\uff12", "FB-", "FB-1234567890"):
        with pytest.raises(UsageError, match="is not a feedback id"):
            parse_number(token)
