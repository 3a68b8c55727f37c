"""The ambassador program through the real core and store, on SQLite and PostgreSQL: roster,
offices and coverage, training with its badge and reminders, and community requests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from adapters.console.render import render
from bot.core import Allybot
from bot.events import ActionPressed, FormSubmitted
from bot.ids import UserRef, WorkspaceRef
from bot.messages import Message, plain_text
from bot.ports import ChannelNotCreated
from store.models import AmbassadorPerson, Badge, BadgeAward, CommunityRequest
from tests.conversation import Chat
from tests.memory_port import MemoryPort


@dataclass
class CreatorPort(MemoryPort):
    """A platform whose bot can create channels (as Slack's can), with names already taken."""

    taken: set[str] = field(default_factory=lambda: {"general", "random"})
    created: list[tuple[str, bool, tuple[str, ...]]] = field(default_factory=list)

    async def create_channel(
        self,
        workspace: WorkspaceRef,
        name: str,
        private: bool,
        members: tuple[UserRef, ...] = (),
    ) -> str:
        if name in self.taken:
            raise ChannelNotCreated("name_taken")
        self.taken.add(name)
        self.created.append((name, private, tuple(m.id for m in members)))
        return f"C-{name}"


@pytest.fixture
def port() -> MemoryPort:
    port = CreatorPort()
    port.add("ana", "Ana", tz="Europe/Paris")
    port.add("bo", "Bo", tz="America/New_York")
    port.add("cy", "Cy", tz="Asia/Tokyo")
    port.add("dee", "Dee")
    port.add("deploybot", "Deploybot", is_bot=True)
    return port


def last_card(port: MemoryPort, who: str) -> Message:
    message = [p.message for p in port.dms_to(who) if p.message.card is not None][-1]
    for _, update in port.updates:  # the latest edit of that card, if any
        if update.card is not None and message.card and update.card.title == message.card.title:
            message = update
    return message


async def press(chat: Chat, who: str, message: Message, label: str) -> str:
    assert message.card is not None
    (button,) = [b for b in message.card.buttons if b.label.startswith(label)]
    reply = await chat.core.handle(
        ActionPressed(
            event_id=f"press-{who}-{button.action_id}-{button.value}-{chat.clock.now()}",
            actor=chat.user(who),
            occurred_at=chat.clock.now(),
            action_id=button.action_id,
            value=button.value,
        )
    )
    await chat.core.run_due()
    assert reply is not None
    return plain_text(reply.message.text)


async def setup(chat: Chat) -> None:
    await chat.say("ana", "role add @cy community-manager")
    await chat.say("cy", "office add Paris tz Europe/Paris")
    await chat.say("cy", "office add Lyon")


async def count(core: Allybot, model: type, *where: object) -> int:
    async with core.services.db.transaction() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return int(await session.scalar(query) or 0)


async def test_join_approval_card_approve_and_im_in(chat: Chat, port: MemoryPort) -> None:
    await setup(chat)
    out = await chat.say("bo", "ambassador join Paris “I love helping newcomers”")
    assert "I sent your request to the community managers" in out
    assert "What the role asks: Ambassadors welcome newcomers" in out and "I'm in" in out
    card = last_card(port, "cy")
    assert card.card is not None and card.card.title == "Ambassador request: Bo"
    assert "I love helping newcomers" in render(card)
    assert [b.action_id for b in card.card.buttons] == ["ambassador:approve", "ambassador:decline"]

    assert "Bo is now an ambassador" in await press(chat, "cy", card, "Approve")
    edited = port.updates[-1][1]
    assert edited.card is not None and "Approved by Cy" in render(edited)
    assert edited.card.buttons == ()  # decided: no more buttons
    welcome = last_card(port, "bo")
    assert welcome.card is not None and welcome.card.title == "You're an ambassador"
    assert "Ambassadors welcome newcomers" in render(welcome)
    assert "You're in! Your training checklist" in await press(chat, "bo", welcome, "I'm in")
    checklist = last_card(port, "bo")
    assert checklist.card is not None and checklist.card.title == "Your ambassador training"
    assert [b.label for b in checklist.card.buttons] == ["Done 1", "Done 2", "Done 3"]
    assert "already in" in await chat.say("bo", "ambassador confirm")

    profile = await chat.say("ana", "ambassador profile @bo")
    assert "Bo: ambassador since 18 Nov 2026" in profile and "Office: Paris" in profile
    assert "America/New_York, 09:00-17:30" in profile and "0 of 3 steps done" in profile
    assert "Bo (Paris)" in await chat.say("dee", "ambassadors")
    assert "Ambassadors in Paris: Bo." in await chat.say("dee", "ambassadors paris")
    await chat.say("bo", "ambassador interests design #Events")
    assert "interested in events: Bo" in await chat.say("dee", "ambassadors events")
    assert "@" not in await chat.say("dee", "ambassadors events")  # names, never pings


async def test_decline_with_reason_add_remove_and_leave(chat: Chat, port: MemoryPort) -> None:
    await setup(chat)
    await chat.say("dee", "ambassador join Lyon")
    chat.pop("dee")
    assert "needs a reason" in await chat.say("cy", "ambassador decline @dee")
    assert "I told them why" in await chat.say("cy", "ambassador decline @dee “full this quarter”")
    (told,) = chat.pop("dee")
    assert "declined by Cy: “full this quarter”" in told
    assert "hasn't asked to join (their last request was declined)" in await chat.say(
        "cy", "ambassador approve @dee"
    )
    assert "Dee is now an ambassador (Lyon)" in await chat.say("cy", "ambassador add @dee Lyon")
    out = await chat.say("cy", "ambassador remove @dee “moved to another role”")
    assert "Dee is no longer an ambassador. Lyon has no ambassador now." in out
    assert "moved to another role" in chat.pop("dee")[-1]
    await chat.say("cy", "ambassador add @bo Paris")
    assert "You left the ambassador program" in await chat.say("bo", "ambassador leave")
    assert "You aren't an ambassador" in await chat.say("bo", "ambassador leave")
    await chat.say("bo", "ambassador join Paris")
    assert "You withdrew your request" in await chat.say("bo", "ambassador leave")
    assert "Withdrawn by its requester" in render(port.updates[-1][1])


async def test_decline_button_opens_a_form_for_the_reason(chat: Chat, port: MemoryPort) -> None:
    await setup(chat)
    await chat.say("bo", "ambassador join Paris")
    card = last_card(port, "cy")
    assert card.card is not None
    (decline,) = [b for b in card.card.buttons if b.action_id == "ambassador:decline"]
    reply = await chat.core.handle(
        ActionPressed(
            event_id="press-decline",
            actor=chat.user("cy"),
            occurred_at=chat.clock.now(),
            action_id=decline.action_id,
            value=decline.value,
        )
    )
    assert reply is not None and reply.form is not None
    decline_form = reply.form

    async def submit(reason: str, event_id: str) -> tuple[str, dict[str, str]]:
        reply = await chat.core.handle(
            FormSubmitted(
                event_id=event_id,
                actor=chat.user("cy"),
                occurred_at=chat.clock.now(),
                form_id="ambassador:decline",
                values={"reason": reason},
                state=decline_form.state,
            )
        )
        await chat.core.run_due()
        assert reply is not None
        return plain_text(reply.message.text), reply.form_errors

    assert "reason" in (await submit("  ", "f-1"))[1]
    assert "Declined Bo's request" in (await submit("we're full", "f-2"))[0]
    assert "declined by Cy: “we're full”" in chat.pop("bo")[-1]


async def test_people_set_their_own_office_and_interests_only(chat: Chat) -> None:
    await setup(chat)
    assert "Your office is now Paris." in await chat.say("dee", "office set paris")
    assert "Only people with the community manager role" in await chat.say(
        "dee", "office set @bo Lyon"
    )
    assert "Bo's office is now Lyon." in await chat.say("cy", "office set @bo Lyon")
    assert "Only people with the community manager role" in await chat.say(
        "dee", "ambassador interests @bo design"
    )
    assert "Bo's interests are now: design." in await chat.say(
        "cy", "ambassador interests @bo design"
    )
    assert "Bo's interests: design." in await chat.say("dee", "ambassador interests @bo")
    offices = await chat.say("dee", "offices")
    assert "• Lyon: 1 person, 0 ambassadors" in offices
    assert "• Paris, Europe/Paris: 1 person, 0 ambassadors" in offices
    removed = await chat.say("cy", "office remove lyon")
    assert "Removed the office Lyon. 1 person no longer has an office" in removed
    assert "Bo: not an ambassador\nOffice: none" in await chat.say("bo", "ambassador profile")


async def test_finishing_the_checklist_awards_the_badge_exactly_once(
    chat: Chat, port: MemoryPort, core: Allybot
) -> None:
    await setup(chat)
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("bo", "ambassador confirm")
    chat.pop("bo")
    card = last_card(port, "bo")
    assert "Step 2 done" in await press(chat, "bo", card, "Done 2")
    assert "already done" in await chat.say("bo", "training done 2")
    assert "Step 1 done" in await chat.say("bo", "training done 1")
    out = await chat.say("bo", "training done 3")
    assert "you finished the ambassador training" in out
    assert "already done" in await chat.say("bo", "training done 3")
    updated = port.updates[-1][1]
    assert updated.card is not None and updated.card.buttons == ()
    assert "All done" in plain_text(updated.card.context)

    # Leaving, coming back and ticking again never counts a second training.
    await chat.say("bo", "ambassador leave")
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("bo", "ambassador confirm")
    await chat.say("bo", "training done 1")
    badges = [t for t in chat.pop("bo") if "Trained ambassador" in t]
    assert badges == [
        "🏅 You earned the 🎓 Trained ambassador badge: Finished the ambassador training."
    ]
    async with core.services.db.transaction() as session:
        awards = await session.scalar(
            select(func.count())
            .select_from(BadgeAward)
            .join(Badge, Badge.id == BadgeAward.badge_id)
            .where(Badge.slug == "trained-ambassador")
        )
    assert awards == 1
    assert "1 ambassador trained" in await chat.say("cy", "training status")


async def test_removing_the_last_open_step_finishes_the_training(chat: Chat) -> None:
    await setup(chat)
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("bo", "ambassador confirm")
    await chat.say("bo", "training done 1")
    await chat.say("bo", "training done 2")
    chat.pop("bo")
    out = await chat.say("cy", "training remove 3")
    assert "That completes it for Bo." in out
    told = chat.pop("bo")
    assert any("you finished it" in t for t in told)
    assert any("Trained ambassador" in t for t in told)
    assert "Ambassador training: completed" in await chat.say("bo", "ambassador profile")


async def test_training_checklists_are_editable(chat: Chat) -> None:
    await setup(chat)
    listed = await chat.say("dee", "training")
    assert "1. Read the ambassador role" in listed and "3. Answer a first question" in listed
    assert "Added step 4" in await chat.say(
        "cy", "training add “Shadow a meetup” “https://wiki.example.com/m”"
    )
    assert "Only people with the community manager role" in await chat.say(
        "dee", "training add “Anything”"
    )
    out = await chat.say("cy", "training reorder 4 1 2 3")
    assert "1. Shadow a meetup\n2. Read the ambassador role" in out
    assert "Step 2 is listed twice" in await chat.say("cy", "training reorder 1 2 2 3")
    assert "the checklist has 4 steps" in await chat.say("cy", "training reorder 1 2")
    assert "Removed “Shadow a meetup”" in await chat.say("cy", "training remove 1")
    assert "There's no step 9: the checklist has 3 steps" in await chat.say(
        "cy", "training remove 9"
    )
    assert "step number must be a whole number from 1 to 1000000, not “\u0661”" in await chat.say(
        "cy", "training remove \u0661"
    )
    manager = await chat.say("cy", "training manager")
    assert "community-manager onboarding checklist" in manager and "channel topic" in manager
    assert "not a link I can use" in await chat.say("cy", "training add “Step” “ftp://x”")


async def test_reminder_once_per_step_inside_working_hours(chat: Chat, port: MemoryPort) -> None:
    await setup(chat)
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("bo", "ambassador confirm")  # Wednesday 18 November, 10:00 UTC
    chat.pop("bo")
    await chat.later(days=6)
    assert chat.pop("bo") == []
    # Seven days on it is 05:00 in New York, Bo's zone: the reminder waits for 09:00 there.
    await chat.later(days=1)
    assert chat.pop("bo") == []
    await chat.later(hours=4)
    (nudge,) = chat.pop("bo")
    assert "gentle nudge" in nudge and "step 1" in nudge and "training done 1" in nudge
    await chat.later(days=20)
    assert chat.pop("bo") == []  # at most one reminder per step
    await chat.say("bo", "training done 1")
    chat.pop("bo")
    await chat.later(days=7, hours=1)  # 15:00 UTC, 10:00 in New York
    (nudge,) = chat.pop("bo")
    assert "step 2" in nudge
    stuck = await chat.say("cy", "training status")
    assert "Bo (ambassador training): on step 2" in stuck and "no progress for 7 days" in stuck


async def test_progress_pushes_the_reminder_back(chat: Chat) -> None:
    await setup(chat)
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("bo", "ambassador confirm")
    await chat.later(days=5)
    await chat.say("bo", "training done 3")  # progress, though step 1 is still the next one
    chat.pop("bo")
    await chat.later(days=3)
    assert chat.pop("bo") == []  # quiet for 3 days only
    await chat.later(days=4, hours=4)
    (nudge,) = chat.pop("bo")
    assert "step 1" in nudge


async def test_coverage_flags_an_office_with_no_ambassador(chat: Chat) -> None:
    await setup(chat)
    await chat.say("bo", "office set Paris")
    await chat.say("dee", "office set Paris")
    await chat.say("cy", "ambassador add @bo Paris")
    out = await chat.say("dee", "ambassadors coverage")
    assert "1 of 2 offices below the target of 1 ambassador: Lyon." in out
    assert "Lyon: ⚠️ no ambassador" in out
    assert "Paris: ✅ Bo (1 for 2 members)" in out
    await chat.say("ana", "config ambassador-target 2")
    assert "2 of 2 offices below the target of 2" in await chat.say("dee", "ambassadors coverage")
    assert "ambassador-target must be a whole number from 1 to 100, not “two”" in await chat.say(
        "ana", "config ambassador-target two"
    )


async def test_weekly_coverage_note_when_an_office_lost_its_last_ambassador(
    chat: Chat,
) -> None:
    await setup(chat)
    await chat.say("cy", "ambassador add @bo Paris")
    await chat.say("cy", "ambassador add @dee Lyon")
    chat.pop("cy")
    await chat.say("cy", "ambassador remove @bo")  # Wednesday
    await chat.later(days=4, hours=22)  # Monday 23 November, 08:00 UTC
    assert chat.pop("cy") == []
    await chat.later(hours=1)  # 09:00 in the workspace's zone (UTC)
    (note,) = chat.pop("cy")
    assert "Weekly coverage: 1 office has lost its last ambassador" in note
    assert "Paris: no ambassador since 18 Nov 2026" in note and "Lyon" not in note
    await chat.say("cy", "ambassador add @cy Paris")
    chat.pop("cy")
    await chat.later(days=7)
    assert chat.pop("cy") == []  # covered again: no note


async def test_private_request_declined_with_a_reason(
    chat: Chat, port: CreatorPort, core: Allybot
) -> None:
    await setup(chat)
    out = await chat.say(
        "dee", "community request #leadership-circle “for leads” private “we discuss people”"
    )
    assert "R-1: I sent your request" in out
    card = last_card(port, "cy")
    assert card.card is not None and "private: “we discuss people”" in render(card)
    assert "open unless there is a reason" in plain_text(card.card.context)
    opened = await press(chat, "cy", card, "Decline")
    assert "fill in the form" in opened
    reply = await chat.core.handle(
        FormSubmitted(
            event_id="form-empty",
            actor=chat.user("cy"),
            occurred_at=chat.clock.now(),
            form_id="community:decline",
            values={"reason": " "},
            state="1",
        )
    )
    assert reply is not None and "reason" in reply.form_errors
    reply = await chat.core.handle(
        FormSubmitted(
            event_id="form-1",
            actor=chat.user("cy"),
            occurred_at=chat.clock.now(),
            form_id="community:decline",
            values={"reason": "please keep it open: #leads works"},
            state="1",
        )
    )
    await chat.core.run_due()
    assert reply is not None and "R-1 declined; I told Dee." in plain_text(reply.message.text)
    (told,) = [t for t in chat.pop("dee") if "declined" in t]
    assert "Cy declined your request for #leadership-circle: “please keep it open" in told
    assert port.created == []
    shown = await chat.say("dee", "community show R-1")
    assert "declined" in shown and "please keep it open" in shown and "Dee: filed" in shown
    assert "R-1 is already declined" in await chat.say("cy", "community approve R-1")
    assert await count(core, CommunityRequest, CommunityRequest.status == "declined") == 1


async def test_open_request_approved_creates_the_channel(chat: Chat, port: CreatorPort) -> None:
    await setup(chat)
    await chat.say("dee", "community request #design-guild “a place for designers”")
    card = last_card(port, "cy")
    assert [b.label for b in card.card.buttons] == ["Approve", "Decline…", "Ask for changes…"]  # type: ignore[union-attr]
    out = await press(chat, "cy", card, "Approve")
    assert "R-1 approved: #design-guild is created and Dee is in it" in out
    assert port.created == [("design-guild", False, ("dee",))]
    told = chat.pop("dee")
    assert "I created #design-guild and added you. You're its community manager." in told[0]
    assert told[1].startswith("📋 Your community-manager onboarding: 0 of 3")
    assert "Approved by Cy: #design-guild created" in render(port.updates[-1][1])
    assert "approved" in await chat.say("dee", "community requests all")
    assert "No open community requests" in await chat.say("dee", "community requests")
    assert "Step 1 done" in await chat.say("dee", "training done 1")
    profile = await chat.say("dee", "ambassador profile")
    assert "Community manager of: #design-guild" in profile
    assert "Community-manager onboarding: 1 of 3 steps done" in profile


async def test_changes_then_revision_and_a_taken_name(chat: Chat, core: Allybot) -> None:
    await setup(chat)
    await chat.say("dee", "community request #random “anything goes”")
    out = await chat.say("cy", "community approve R-1")
    assert "#random is already taken on Slack" in out and "nothing changed" in out
    assert await count(core, CommunityRequest, CommunityRequest.status == "open") == 1
    assert "needs" not in await chat.say("cy", "community changes R-1 “pick a new name”")
    assert "asked for changes" in chat.pop("dee")[-1]
    assert "waiting for its requester's changes" in await chat.say("cy", "community approve R-1")
    assert "I revised your request" in await chat.say("dee", "community request #random “x”")
    assert "#random is already requested (R-1, open)" in await chat.say(
        "bo", "community request #random “mine”"
    )


async def test_bad_input_gets_specific_messages(chat: Chat, core: Allybot) -> None:
    await setup(chat)
    assert "There's no office “Pariss”; the offices are Lyon, Paris." in await chat.say(
        "bo", "ambassador join Pariss"
    )
    assert "Which office do you work from?" in await chat.say("bo", "ambassador join")
    await chat.say("bo", "ambassador join Paris")
    assert "You already asked to join" in await chat.say("bo", "ambassador join Paris")
    await chat.say("cy", "ambassador approve @bo")
    assert "You're already an ambassador" in await chat.say("bo", "ambassador join Paris")
    assert "Name one @person" in await chat.say("cy", "ambassador approve")
    assert "Deploybot is a bot" in await chat.say("cy", "ambassador add @deploybot")
    assert "There's already an office “Paris”" in await chat.say("cy", "office add paris")
    assert "not a time zone I know" in await chat.say("cy", "office add Oslo tz Mars/Base")
    assert "There's no office “Berlin”" in await chat.say("cy", "office remove Berlin")
    assert "training done 7" not in await chat.say("bo", "training done 7")
    assert "You have no ambassador checklist yet" in await chat.say("bo", "training done 1")
    await chat.say("bo", "ambassador confirm")
    assert "There's no step 7: the checklist has 3 steps" in await chat.say("bo", "training done 7")
    assert "is not a theme I can use" in await chat.say("bo", "ambassador interests a,b!")
    assert "private community needs a reason" in await chat.say(
        "dee", "community request #x-team “x” private"
    )
    assert "must be lowercase: #Design would be rejected; use #design" in await chat.say(
        "dee", "community request #Design “x”"
    )
    assert "can't contain spaces: use hyphens instead, e.g. #design-guild" in await chat.say(
        "dee", "community request “#design guild” “x”"
    )
    assert "is 81 characters long; Slack allows at most 80" in await chat.say(
        "dee", f"community request #{'a' * 81} “x”"
    )
    assert "“!.” is not allowed in #hi!." in await chat.say("dee", "community request #hi!. “x”")
    assert "#general already exists" in await chat.say("dee", "community request <#C1|general> “x”")
    assert "Say what #x is for" in await chat.say("dee", "community request #x")
    assert "There's no request R-9" in await chat.say("cy", "community show R-9")
    assert "“banana” is not a request id" in await chat.say("cy", "community approve banana")
    assert "Only people with the community manager role" in await chat.say(
        "dee", "community approve R-1"
    )
    # Nothing half-written: only Bo's row exists, and no request.
    assert await count(core, CommunityRequest) == 0
    assert await count(core, AmbassadorPerson) == 1
    help_text = await chat.say("dee", "help community")
    assert "Usage: /ally community request #name" in help_text
