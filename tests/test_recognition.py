"""Roles, badges, leaderboards, profiles and rewards through the real core, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from bot.clock import ManualClock
from bot.core import Allybot
from bot.events import ActionPressed, Event
from bot.ids import MessageRef
from bot.messages import Mention, plain_text
from tests.conftest import GENERAL, user
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort


async def say(core: Allybot, text: str, actor: str = "ana", **kw: object) -> str:
    reply = await core.handle(
        command(user(actor), text, GENERAL, core.services.clock.now(), **kw)  # type: ignore[arg-type]
    )
    await core.run_due()
    assert reply is not None
    out = plain_text(reply.message.text)
    if reply.message.card is not None:  # what the card shows, too
        for section in reply.message.card.sections:
            out += "\n" + plain_text(section.text)
            out += "".join(f"\n{f.label}: {plain_text(f.value)}" for f in section.fields)
    return out


# ----- roles --------------------------------------------------------------------------------


async def test_roles_are_granted_by_admins_and_checked_in_the_core(core: Allybot) -> None:
    refused = await say(core, 'badge give <@cy> trained-ambassador "did it"', actor="bo")
    assert "Only people with the curator role can award or revoke badges" in refused
    assert "role add @you curator" in refused
    assert "change roles" in await say(core, "role add <@cy> curator", actor="bo")
    assert "Bo is now a curator." in await say(core, "role add <@bo> curator")
    assert "already was a curator" in await say(core, "role add <@bo> curator")
    assert "Curators: Bo" in await say(core, "roles", actor="dee")
    assert "Name one person and one role" in await say(core, "role add <@bo> wizard")
    assert "Deploybot is a bot" in await say(core, "role add <@deploybot> curator")
    assert "roles: curator" in await say(core, "whoami", actor="bo")
    assert "no longer a curator" in await say(core, "role remove <@bo> curator")


# ----- rule-based badges --------------------------------------------------------------------


async def test_first_kudos_badge_is_awarded_once(core: Allybot, port: MemoryPort) -> None:
    await say(core, "kudos <@bo> thanks")
    await say(core, "kudos <@cy> thanks")
    awards = [p.text for p in port.dms_to("ana") if "You earned" in p.text]
    assert awards == ["🏅 You earned the 👏 First thanks badge: Gave their first kudos."]


async def test_rule_awards_on_the_event_and_retroactively(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    for giver in ("ana", "cy", "dee"):
        for _ in range(3):
            await say(core, "kudos <@bo> thanks", actor=giver)
    assert not [p for p in port.dms_to("bo") if "You earned" in p.text]
    # A curator lowers the bar: Bo (9 received) qualifies at once, nobody else does.
    await say(core, "role add <@dee> curator")
    report = await say(core, "badge rule appreciated kudos_received 5", actor="dee")
    assert "1 qualifies: Bo; newly awarded: Bo." in report
    assert [p.text for p in port.dms_to("bo") if "Appreciated" in p.text]
    again = await say(core, "badge rule appreciated kudos_received 5", actor="dee")
    assert "newly awarded: nobody (they had it)" in again
    # A repeatable rule awards each multiple once.
    await say(
        core, 'badge create fan-favourite "Fan favourite" ⭐ "Loved by all" repeatable', actor="dee"
    )
    report = await say(core, "badge rule fan-favourite kudos_received 4", actor="dee")
    assert "newly awarded: Bo" in report
    assert len([p for p in port.dms_to("bo") if "Fan favourite" in p.text]) == 2  # 4 and 8
    clock.advance(timedelta(days=1))
    for giver in ("ana", "cy", "dee"):
        await say(core, "kudos <@bo> more thanks", actor=giver)  # 12 received: a third
    assert len([p for p in port.dms_to("bo") if "Fan favourite" in p.text]) == 3


async def test_giving_streak_counts_consecutive_weeks(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    for week in range(5):
        await say(core, f"kudos <@bo> week {week}", actor="cy")
        clock.advance(timedelta(days=7))
    assert [p for p in port.dms_to("cy") if "Generous streak" in p.text]
    clock.advance(timedelta(days=14))  # a gap: the streak starts again
    await say(core, "kudos <@bo> back again", actor="dee")
    for week in range(3):
        await say(core, f"kudos <@bo> dee week {week}", actor="dee")
        clock.advance(timedelta(days=14))
    assert not [p for p in port.dms_to("dee") if "Generous streak" in p.text]


async def test_reaction_kudos_taken_back_updates_counters(core: Allybot) -> None:
    msg = MessageRef(GENERAL, "9")
    now = core.services.clock.now()
    await core.handle(reaction(user("cy"), msg, user("bo"), now))
    await core.run_due()  # reactions are acknowledged at once and applied by the inbox
    assert "received 1 this month" in await say(core, "profile <@bo>")
    await core.handle(reaction(user("cy"), msg, user("bo"), now, added=False))
    await core.run_due()
    assert "received 0 this month" in await say(core, "profile <@bo>")


# ----- manual badges ------------------------------------------------------------------------


async def test_manual_award_and_revoke(core: Allybot, port: MemoryPort) -> None:
    await say(core, "role add <@cy> curator")
    assert "Say why Bo earns" in await say(core, "badge give <@bo> trained-ambassador", actor="cy")
    out = await say(
        core, 'badge give <@bo> trained-ambassador "finished the onboarding track"', actor="cy"
    )
    assert "Awarded 🎓 Trained ambassador to Bo" in out
    dm = [p.text for p in port.dms_to("bo") if "Trained ambassador" in p.text]
    assert dm == ["🏅 You earned the 🎓 Trained ambassador badge: finished the onboarding track"]
    again = await say(core, 'badge give <@bo> trained-ambassador "again"', actor="cy")
    assert "already has 🎓 Trained ambassador (since 2026-11-18)" in again
    assert "There's no badge `wizard`" in await say(core, 'badge give <@bo> wizard "x"', actor="cy")
    assert "ask another curator" in await say(
        core, 'badge give <@cy> go-to-helper "me"', actor="cy"
    )
    assert "Give a reason" in await say(core, "badge revoke <@bo> trained-ambassador", actor="cy")
    out = await say(core, 'badge revoke <@bo> trained-ambassador "wrong person"', actor="cy")
    assert "Removed 🎓 Trained ambassador from Bo (wrong person)" in out
    assert "doesn't have" in await say(
        core, 'badge revoke <@bo> trained-ambassador "x"', actor="cy"
    )


async def test_catalogue_management_and_bad_input(core: Allybot) -> None:
    await say(core, "role add <@cy> curator")
    assert "can't be a slug" in await say(core, 'badge create "Bad Slug" "X" ⭐ "d"', actor="cy")
    assert "matching quotes" in await say(core, 'badge create x "unclosed ⭐ d', actor="cy")
    created = await say(core, 'badge create mentor "Mentor" 🧭 "Guides newcomers"', actor="cy")
    assert "Created 🧭 Mentor (`mentor`)" in created
    assert "already a badge `mentor`" in await say(
        core, 'badge create mentor "Mentor" 🧭 "Guides newcomers"', actor="cy"
    )
    assert "Updated the name" in await say(
        core, 'badge edit mentor name "Mentor of mentors"', actor="cy"
    )
    assert "Retired `mentor`" in await say(core, "badge retire mentor", actor="cy")
    assert "retired, so it can't be awarded" in await say(
        core, 'badge give <@bo> mentor "x"', actor="cy"
    )
    catalogue = await say(core, "badges", actor="bo")
    assert "Mentor of mentors" in catalogue and "(retired)" in catalogue
    assert "First thanks" in catalogue and "1 kudos given" in catalogue
    assert "Counters: kudos_received" in await say(core, "badge rule mentor stars 3", actor="cy")


async def test_announcements_respect_opt_out(core: Allybot, port: MemoryPort) -> None:
    await say(core, "config recognition-channel kudos-wall")
    await say(core, "role add <@cy> curator")
    await say(core, 'badge give <@bo> trained-ambassador "onboarding done"', actor="cy")
    wall = [p.text for p in port.in_conversation("kudos-wall")]
    assert wall == ["🏅 @Bo earned 🎓 Trained ambassador: onboarding done"]
    await say(core, "privacy announce off", actor="dee")
    await say(core, 'badge give <@dee> go-to-helper "always there"', actor="cy")
    assert len(port.in_conversation("kudos-wall")) == 1
    assert [p for p in port.dms_to("dee") if "Go-to helper" in p.text]  # still told privately


# ----- leaderboards -------------------------------------------------------------------------


async def test_leaderboard_top_rank_values_teams_and_privacy(
    core: Allybot, port: MemoryPort
) -> None:
    await say(core, "kudos <@bo> thanks #teamwork", actor="ana")
    await say(core, "kudos <@bo> thanks", actor="cy")
    await say(core, "kudos <@cy> thanks #teamwork", actor="ana")
    await say(core, "kudos <@dee> thanks", actor="bo")
    board = await say(core, "leaderboard", actor="dee")
    assert "1. @Bo — 2" in board and "2. @Cy — 1" in board and "2. @Dee — 1" in board
    assert "You: #2 with 1." in board
    teamwork = await say(core, "leaderboard #teamwork", actor="ana")
    assert "1. @Bo — 1" in teamwork and "1. @Cy — 1" in teamwork and "Dee" not in teamwork
    assert "no kudos received this month yet" in teamwork
    given = await say(core, "leaderboard given all", actor="ana")
    assert "1. @Ana — 2" in given
    # Names only: a leaderboard pings nobody.
    reply = await core.handle(
        command(user("ana"), "leaderboard", GENERAL, core.services.clock.now())
    )
    assert reply is not None and not any(isinstance(p, Mention) for p in reply.message.text)
    await say(core, "privacy leaderboard off", actor="bo")
    hidden = await say(core, "leaderboard", actor="bo")
    assert "Bo" not in hidden.split("You")[0] and "You're hidden from leaderboards" in hidden
    await say(core, "team Support", actor="cy")
    await say(core, "role add <@cy> community-manager")
    assert "Dee's team: Support." in await say(core, "team <@dee> Support", actor="cy")
    support = await say(core, "leaderboard team Support", actor="cy")
    assert "1. @Cy — 1" in support and "1. @Dee — 1" in support and "Bo" not in support
    assert "I don't understand “sideways”" in await say(core, "leaderboard sideways")


# ----- profiles and rewards -----------------------------------------------------------------


async def test_profile_and_reward_preferences(core: Allybot) -> None:
    await say(core, "kudos <@bo> great demo #teamwork #craft", actor="ana")
    await say(core, "kudos <@bo> clear docs #craft", actor="cy")
    assert "Saved. You value: learning budget" in await say(
        core, "rewards add learning-budget", actor="bo"
    )
    await say(core, 'rewards add other "a coffee with the CTO"', actor="bo")
    own = await say(core, "profile", actor="bo")
    assert "Your profile: 2 kudos received" in own
    assert "#craft (2), #teamwork (1)" in own
    assert "“clear docs #craft” — @Cy" in own
    assert "learning budget, something else (a coffee with the CTO)" in own
    others = await say(core, "profile <@bo>", actor="dee")
    assert "Bo's profile" in others and "learning budget" not in others
    assert "community manager role" in await say(core, "rewards <@bo>", actor="dee")
    await say(core, "role add <@dee> community-manager")
    assert "Bo values: learning budget" in await say(core, "rewards <@bo>", actor="dee")
    assert "“yacht” isn't a kind of recognition" in await say(core, "rewards add yacht", actor="bo")
    await say(core, "role add <@cy> curator")
    await say(core, 'badge give <@bo> trained-ambassador "onboarding"', actor="cy")
    badged = await say(core, "rewards badged", actor="dee")
    assert "Bo (🎓 Trained ambassador): learning budget" in badged
    assert "Ana (👏 First thanks)" in badged


async def test_home_card_shows_what_matters(core: Allybot) -> None:
    await say(core, "kudos <@bo> thanks", actor="ana")
    home = await say(core, "home", actor="ana")
    assert "Kudos this month: 0 received · 1 given" in home
    assert "Kudos you can give today: 4 of 5" in home
    assert "Badges: 👏 First thanks" in home
    assert "Your rank: not on the board yet" in home


@pytest.mark.parametrize("text", ["badge frobnicate", "privacy leaderboard maybe", "profile bo"])
async def test_malformed_recognition_commands_explain_themselves(core: Allybot, text: str) -> None:
    out = await say(core, text)
    assert "Usage" in out or "Mention the person" in out


async def test_ranks_match_a_naive_count_after_opt_outs_and_take_backs(
    core: Allybot, port: MemoryPort
) -> None:
    # Ranks come from per-score counts kept beside the totals; they must equal counting people.
    people = ["ana", "bo", "cy", "dee", "eve", "fay"]
    for p in people[4:]:
        port.add(p, p.capitalize())
    plan = [
        ("ana", "bo"),
        ("cy", "bo"),
        ("dee", "bo"),
        ("ana", "cy"),
        ("bo", "cy"),
        ("ana", "dee"),
        ("bo", "eve"),
        ("cy", "fay"),
        ("dee", "fay"),
        ("eve", "fay"),
    ]
    for giver, recipient in plan:
        await say(core, f"kudos <@{recipient}> thanks", actor=giver)
    msg = MessageRef(GENERAL, "77")
    now = core.services.clock.now()
    await core.handle(reaction(user("fay"), msg, user("eve"), now))
    await core.handle(reaction(user("fay"), msg, user("eve"), now, added=False))
    await say(core, "privacy leaderboard off", actor="bo")
    await say(core, "privacy leaderboard off", actor="cy")
    await say(core, "privacy leaderboard on", actor="cy")
    received = {"bo": 3, "cy": 2, "dee": 1, "eve": 1, "fay": 3}
    visible = {p: n for p, n in received.items() if p != "bo"}
    for person, n in visible.items():
        expected = 1 + sum(1 for m in visible.values() if m > n)
        board = await say(core, "leaderboard", actor=person)
        assert f"You: #{expected} with {n}." in board, (person, board)


# ----- numbers people type ------------------------------------------------------------------


async def test_rule_thresholds_are_ascii_whole_numbers_in_range(core: Allybot) -> None:
    await say(core, "role add <@cy> curator")
    # Digits `str.isdigit` takes but `int` refuses (①, ²) or reads (٣, full-width 3), and the rest.
    for n in ("①", "²", "٣", "\uff13", "0", "-1", "1.5", "1e3", "1000001", "ten"):
        out = await say(core, f"badge rule appreciated kudos_given {n}", actor="cy")
        assert f"N must be a whole number from 1 to 1000000, not “{n}”." in out, n
        assert "Usage: badge rule SLUG COUNTER N" in out and "Counters: kudos_received" in out
    assert "Rule saved" in await say(core, "badge rule appreciated kudos_given 3", actor="cy")
    assert "Rule saved" in await say(core, "badge rule appreciated kudos_given 1000000", actor="cy")


# ----- cost -----------------------------------------------------------------------------------


async def test_a_command_is_one_unit_of_work_and_one_transaction(core: Allybot) -> None:
    """Person resolution, the role check and the command share one transaction, once the people
    are known (a first command looks up their profiles, before its own transaction)."""
    engine = core.services.db.engine.sync_engine
    begun: list[object] = []

    def count(conn: object) -> None:
        begun.append(conn)

    async def cost(text: str) -> tuple[str, int, int]:
        """What `text` by Cy answers, in database transactions and units of work."""
        now = core.services.clock.now()
        inbound: Event = (
            ActionPressed(
                event_id=f"press-{text}",
                actor=user("cy"),
                occurred_at=now,
                action_id=text,
                value="",
            )
            if text.startswith("home:")  # a button on the home card
            else command(user("cy"), text, GENERAL, now)
        )
        units, begun[:] = core.services.uow.transactions, []
        reply = await core.handle(inbound)
        n, units = len(begun), core.services.uow.transactions - units
        await core.run_due()  # delivering what it queued is not the command's cost
        assert reply is not None
        return plain_text(reply.message.text), n, units

    await say(core, "role add <@cy> curator")  # warms ana and cy
    await say(core, "kudos <@bo> thanks for the demo", actor="cy")  # and bo
    costs: dict[str, int] = {}
    event.listen(engine, "begin", count)
    try:
        for text, expected in [
            ("profile <@dee>", "Dee's profile"),  # never seen: her profile is looked up first
            ('badge give <@bo> trained-ambassador "finished onboarding"', "Awarded"),
            ("leaderboard", "Kudos received this month"),
            ("badges", "Badges:"),
            ("badge show trained-ambassador", "Trained ambassador"),
            ("badge rule appreciated kudos_received 1", "Rule saved"),
            ('badge revoke <@bo> trained-ambassador "wrong person"', "Removed"),
            ("badge rule appreciated kudos_given ①", "N must be a whole number"),
            ("profile <@bo>", "Bo's profile"),
            ("rewards add swag", "Saved."),
            ("privacy", "You are shown on leaderboards"),
            ("team Support", "Your team: Support."),
            ("home", "kudos left today"),
            ("home:profile", "Your profile"),  # the profile, not the home card again
            ("home:leaderboard", "Kudos received this month"),
            ("home:kudos", "Thank someone with"),
            ("roles", "Curators: Cy"),
            ("role add <@bo> curator", "Only people with the admin role"),
        ]:
            said, transactions, units = await cost(text)
            assert expected in said, (text, said)
            assert units == 1, (text, units)
            assert transactions <= 2, (text, transactions)
            costs[text] = transactions
    finally:
        event.remove(engine, "begin", count)
    assert costs["profile <@dee>"] == 2  # the look-up before, then the unit: the count counts


def test_allybot_admins_entries_name_people_in_their_own_workspace_only(
    core: Allybot,
) -> None:
    from bot.ids import Platform, WorkspaceRef
    from bot.roles import Roles

    core.services.settings.admins[:] = ["ana", "29:1a-b", "slack:T1:U9", "console:other:zed"]
    roles = Roles(core.services)
    assert list(roles.configured_admins_in(WorkspaceRef(Platform.SLACK, "T1"))) == [
        "ana",
        "29:1a-b",
        "U9",
    ]
    assert list(roles.configured_admins_in(WorkspaceRef(Platform.CONSOLE, "acme"))) == [
        "ana",
        "29:1a-b",
    ]
