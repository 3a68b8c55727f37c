"""The ambassador program on Teams end to end: activities into the real botbuilder stack,
Adaptive Card submits for the buttons and forms, Bot Connector calls into the local fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeBotConnector
from tests.teams_support import start_teams
from tests.test_feedback_teams import card_submit, proactive
from tests.test_teams_e2e import ANA, BO, CARD, CY, TeamsSystem


@pytest_asyncio.fixture
async def teams(
    db_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> AsyncIterator[TeamsSystem]:
    """The running Teams system, on SQLite and PostgreSQL."""
    async for system in start_teams(db_url, clock, fake_connector):
        yield system


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == CARD
    content: dict[str, Any] = attachment["content"]
    return content


def actions(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["data"] for a in card_of(activity).get("actions", []) if "data" in a]


async def greet(teams: TeamsSystem, *people: str) -> None:
    """Each person's personal chat with the bot, where their direct messages then go."""
    for person in people:
        await teams.say("offices", sender=person)


async def test_join_approve_im_in_and_training_by_cards(teams: TeamsSystem) -> None:
    await greet(teams, ANA, BO)
    await teams.say("office add Paris tz Europe/Paris")
    reply = await teams.say("ambassador join Paris “I love helping newcomers”", sender=BO)
    assert "I sent your request to the community managers" in reply["text"]
    await teams.deliver()
    (card,) = [p for p in proactive(teams, ANA) if p.get("attachments")]
    assert "Ambassador request: Bo" in json.dumps(card_of(card))
    (approve,) = [a for a in actions(card) if a["action_id"] == "ambassador:approve"]
    assert approve["value"] == BO

    (ok,) = await teams.send(card_submit(teams, approve))
    assert "Bo is now an ambassador" in ok["text"]
    await teams.deliver()
    assert teams.connector.calls_of("update")  # the review card shows the decision
    (welcome,) = [p for p in proactive(teams, BO) if p.get("attachments")]
    assert {"action_id": "ambassador:confirm", "value": ""} in actions(welcome)

    (im_in,) = await teams.send(
        card_submit(teams, {"action_id": "ambassador:confirm", "value": ""}, sender=BO)
    )
    assert "You're in!" in im_in["text"]
    await teams.deliver()
    checklist = [p for p in proactive(teams, BO) if p.get("attachments")][-1]
    dones = [a for a in actions(checklist) if a["action_id"] == "training:done"]
    assert len(dones) == 3
    for done in dones:
        await teams.send(card_submit(teams, done, sender=BO))
        await teams.deliver()
    texts = [p.get("text", "") for p in proactive(teams, BO)]
    assert sum("Trained ambassador" in t for t in texts) == 1
    profile = await teams.say("ambassador profile", sender=BO)
    assert "Ambassador training: completed" in profile["text"]


async def test_approval_on_teams_says_what_to_do_by_hand(teams: TeamsSystem) -> None:
    await greet(teams, ANA, CY)
    reply = await teams.say("community request #design-guild “a place for designers”", sender=CY)
    assert "R-1: I sent your request" in reply["text"]
    await teams.deliver()
    (card,) = [p for p in proactive(teams, ANA) if p.get("attachments")]
    assert {"action_id": "community:approve", "value": "1"} in actions(card)
    (ok,) = await teams.send(card_submit(teams, {"action_id": "community:approve", "value": "1"}))
    assert "Teams doesn't let bots create channels" in ok["text"]
    assert "Add channel" in ok["text"] and "add Cy as an owner" in ok["text"]
    await teams.deliver()
    told = [p.get("text", "") for p in proactive(teams, CY)]
    assert any(
        "will create \\#design-guild by hand" in t or "#design-guild by hand" in t for t in told
    )
    assert any("community-manager onboarding" in t for t in told)


async def test_private_request_declined_with_a_reason_by_form(teams: TeamsSystem) -> None:
    await greet(teams, ANA, CY)
    await teams.say("community request #leads “for leads” private “people topics”", sender=CY)
    no_reason = await teams.say("community request #x-leads “for leads” private", sender=CY)
    assert "private community needs a reason" in no_reason["text"]
    await teams.deliver()
    (form,) = await teams.send(card_submit(teams, {"action_id": "community:decline", "value": "1"}))
    form_card = card_of(form)
    assert any(b.get("id") == "reason" for b in form_card["body"])
    submit = form_card["actions"][0]["data"]
    (empty,) = await teams.send(card_submit(teams, dict(submit, reason="")))
    assert "Say why it is declined" in empty["text"]
    (done,) = await teams.send(card_submit(teams, dict(submit, reason="use the leads team")))
    assert "R-1 declined; I told Cy." in done["text"]
    await teams.deliver()
    told = [p.get("text", "") for p in proactive(teams, CY)]
    assert any("declined your request" in t and "use the leads team" in t for t in told)
