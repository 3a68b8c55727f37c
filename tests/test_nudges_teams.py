"""Nudges on Teams end to end, on SQLite and PostgreSQL: activities into the real botbuilder
stack, Adaptive Card submits for the buttons, Bot Connector calls into the local fake."""

from __future__ import annotations

import json

from tests.test_ambassadors_teams import actions, card_of, greet, teams  # noqa: F401 (fixture)
from tests.test_feedback_teams import card_submit, proactive
from tests.test_teams_e2e import ANA, BO, CY, TeamsSystem


def nudges(system: TeamsSystem, user: str) -> list[dict[str, object]]:
    return [
        p
        for p in proactive(system, user)
        if p.get("attachments") and "nudge:stop" in json.dumps(p["attachments"])
    ]


async def test_campaign_buttons_snooze_and_an_approved_request(teams: TeamsSystem) -> None:  # noqa: F811
    await greet(teams, ANA, BO, CY)
    await teams.say("office add Paris tz Europe/Paris")
    await teams.say("ambassador join Paris", sender=BO)
    await teams.deliver()
    (approved,) = await teams.send(
        card_submit(teams, {"action_id": "ambassador:approve", "value": BO})
    )
    assert "Bo is now an ambassador" in approved["text"]
    await teams.say("ambassador interests design", sender=BO)
    assert "Nudges are on" in (await teams.say("nudges on", sender=BO))["text"]
    reply = await teams.say('content add https://example.com/a "A post" "Worth it" for: design')
    assert "Added C-1" in reply["text"] and "(1 now" in reply["text"]
    await teams.deliver()
    (dm,) = nudges(teams, BO)
    card = json.dumps(card_of(dm))
    assert "linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fexample.com%2Fa" in card
    ids = [a["action_id"] for a in actions(dm)]
    assert ids == ["nudge:shared", "nudge:skip", "nudge:snooze", "nudge:snooze", "nudge:stop"]
    snooze = actions(dm)[3]
    (ok,) = await teams.send(card_submit(teams, snooze, sender=BO))
    assert "Snoozed until" in ok["text"]
    await teams.deliver()
    assert teams.connector.calls_of("update")  # the nudge's buttons are gone

    reply = await teams.say("ask-ambassadors “Share our hiring post”", sender=CY)
    assert "Request A-1 is with the community managers" in reply["text"]
    await teams.deliver()
    (approval,) = [p for p in proactive(teams, ANA) if "Request A-1" in json.dumps(p)]
    assert "this is not an ad channel" in json.dumps(card_of(approval))
    assert {"action_id": "nudge:approve", "value": "A-1"} in actions(approval)
    (ok,) = await teams.send(card_submit(teams, {"action_id": "nudge:approve", "value": "A-1"}))
    assert "Approved A-1" in ok["text"]
    await teams.deliver()
    assert any("was approved by" in p.get("text", "") for p in proactive(teams, CY))
    shown = await teams.say("nudges", sender=BO)
    assert "Paused until" in shown["text"] and "a request from another team" in shown["text"]
