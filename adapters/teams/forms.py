"""Core forms <-> Teams: an Adaptive Card with inputs, shown in a task module (message actions)
or as a card in the conversation (buttons). Its Action.Submit data names the form and carries
the core's state; Teams merges the inputs' values into that data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from adapters.teams.inbound import Envelope
from adapters.teams.render import ADAPTIVE_CARD, escape_markdown
from bot.events import FormSubmitted
from bot.messages import Form

FORM_ID = "form_id"
FORM_STATE = "form_state"


def card(form: Form) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape_markdown(form.title), "weight": "Bolder", "wrap": True}
    ]
    for field in form.fields:
        item: dict[str, Any]
        if field.kind == "select":
            item = {
                "type": "Input.ChoiceSet",
                "style": "compact",
                "choices": [{"title": o, "value": o} for o in field.options],
            }
        else:
            item = {"type": "Input.Text", "isMultiline": field.kind == "multiline"}
            if field.max_length:
                item["maxLength"] = field.max_length
        item.update(id=field.id, label=field.label, isRequired=not field.optional)
        if field.value:
            item["value"] = field.value
        if not field.optional:
            item["errorMessage"] = f"{field.label} is required"
        body.append(item)
        if field.hint:
            body.append(
                {
                    "type": "TextBlock",
                    "text": escape_markdown(field.hint),
                    "wrap": True,
                    "isSubtle": True,
                    "size": "Small",
                    "spacing": "None",
                }
            )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "actions": [
            {
                "type": "Action.Submit",
                "title": form.submit,
                "data": {FORM_ID: form.form_id, FORM_STATE: form.state},
            }
        ],
    }


def task_continue(form: Form) -> dict[str, Any]:
    """The answer to composeExtension/fetchTask that opens the form in a task module."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": form.title,
                "card": {"contentType": ADAPTIVE_CARD, "content": card(form)},
            },
        }
    }


def is_submission(data: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(data, Mapping) and isinstance(data.get(FORM_ID), str)


def submitted(env: Envelope, data: Mapping[str, Any]) -> FormSubmitted:
    values = {
        str(k): "" if v is None else str(v)
        for k, v in data.items()
        if k not in (FORM_ID, FORM_STATE) and isinstance(v, str | int | float | bool | None)
    }
    return FormSubmitted(
        event_id=env.event_id,
        actor=env.actor,
        occurred_at=env.occurred_at,
        actor_profile=env.actor_profile,
        raw=env.raw,
        form_id=str(data.get(FORM_ID) or ""),
        values=values,
        state=str(data.get(FORM_STATE) or ""),
        conversation=env.conversation,
    )
