"""Feedback on Teams end to end: activities into the real botbuilder stack, Bot Connector calls
into the local fake."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests import test_teams_e2e
from tests.test_teams_e2e import ANA, BO, CARD, PERSONAL, TeamsSystem, personal, submit_action

teams = test_teams_e2e.teams  # the running Teams system (a fixture)

TRIAGE = "19:triage@thread.tacv2"


def card_submit(teams: TeamsSystem, data: dict[str, Any], sender: str = ANA) -> dict[str, Any]:
    activity = personal(teams.connector.url, "", sender)
    del activity["text"]
    activity["value"] = data
    return activity


def fetch_task(teams: TeamsSystem) -> dict[str, Any]:
    activity = submit_action(teams.connector.url, "aad-bo", "")
    activity["name"] = "composeExtension/fetchTask"
    activity["from"] = {"id": BO, "name": "Bo", "aadObjectId": "aad-bo"}
    activity["value"]["commandId"] = "sendAsFeedback"
    del activity["value"]["data"]
    return activity


def proactive(teams: TeamsSystem, user: str) -> list[dict[str, Any]]:
    return teams.posts_in(PERSONAL[user])


async def test_feedback_triage_by_card_and_form_reaches_the_submitter(teams: TeamsSystem) -> None:
    await teams.say(f"config feedback-channel {TRIAGE}")
    reply = await teams.say("feedback the VPN guide is **outdated** <at>x</at>", sender=BO)
    assert "filed as FB-1" in reply["text"]
    await teams.deliver()
    (card,) = teams.posts_in(TRIAGE)
    content = card["attachments"][0]["content"]
    assert card["attachments"][0]["contentType"] == CARD
    assert "\\*\\*outdated\\*\\*" in content["body"][1]["text"]  # markdown escaped
    datas = [a["data"] for a in content["actions"]]
    assert {"action_id": "feedback:ack", "value": "1"} in datas

    (ack,) = await teams.send(card_submit(teams, {"action_id": "feedback:ack", "value": "1"}))
    assert "FB-1 is now acknowledged" in ack["text"]
    (form,) = await teams.send(card_submit(teams, {"action_id": "feedback:decline", "value": "1"}))
    form_card = form["attachments"][0]["content"]
    assert form_card["body"][1]["type"] == "Input.Text" and form_card["body"][1]["id"] == "reason"
    submit = form_card["actions"][0]["data"]
    (empty,) = await teams.send(card_submit(teams, dict(submit, reason="")))
    assert "Say why it is declined" in empty["text"]
    (done,) = await teams.send(card_submit(teams, dict(submit, reason="the guide is retired")))
    assert "FB-1 is now declined" in done["text"]

    await teams.deliver()
    updates = [p["text"] for p in proactive(teams, BO)]
    assert len(updates) == 2  # both status changes reached the submitter
    assert "**acknowledged**" in updates[0] and "the guide is retired" in updates[1]
    assert teams.connector.calls_of("update")  # the triage card followed


async def test_message_action_opens_a_task_module_form(teams: TeamsSystem) -> None:
    await teams.say("hello", sender=BO)  # Bo's personal chat, for the DMs
    status, text = await teams.post(fetch_task(teams))
    assert status == 200
    task = json.loads(text)["task"]
    assert task["type"] == "continue" and task["value"]["title"] == "Send as feedback"
    body = task["value"]["card"]["content"]["body"]
    assert body[1]["id"] == "text" and body[1]["value"] == "Release notes are out 🎉"
    data = task["value"]["card"]["content"]["actions"][0]["data"]

    submit = submit_action(teams.connector.url, "aad-bo", "")
    submit["from"] = {"id": BO, "name": "Bo", "aadObjectId": "aad-bo"}
    submit["value"].update(commandId="sendAsFeedback", data=dict(data, text=" ", anonymous="no"))
    status, text = await teams.post(submit)
    assert "Your feedback is empty" in json.loads(text)["composeExtension"]["text"]
    submit["id"] = "f:again"
    submit["value"]["data"] = dict(data, text="Release notes lack dates", category="docs")
    status, text = await teams.post(submit)
    assert "filed as FB-1" in json.loads(text)["composeExtension"]["text"]

    reply = await teams.say("feedback show FB-1")
    assert "docs" in reply["text"] and "teams.microsoft.com" in reply["text"]
    reply = await teams.say("feedback export")
    assert "Exported 1 items" in reply["text"]
    await teams.deliver()
    (export,) = [p for p in proactive(teams, ANA) if p.get("attachments")]
    attachment = export["attachments"][0]
    assert attachment["contentType"] == "text/csv" and attachment["name"].endswith(".csv")
    csv_text = base64.b64decode(attachment["contentUrl"].split(",", 1)[1]).decode()
    assert "FB-1" in csv_text and "Release notes lack dates" in csv_text
