"""Core forms <-> Slack modals, and message shortcuts -> core events. Translation only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.slack.inbound import normalise_text, permalink, team_id
from bot.events import FormSubmitted, MessageActionInvoked, Profile
from bot.ids import ConversationKind, ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import Form, Reply

VALUE = "value"  # the action id of every input element: the block id names the field


def _text(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…"}


def _conversation(ws: WorkspaceRef, channel: str | None) -> ConversationRef | None:
    if not channel:
        return None
    kind = ConversationKind.DIRECT if channel.startswith("D") else ConversationKind.CHANNEL
    return ConversationRef(ws, channel, kind)


def modal(form: Form, channel: str | None) -> dict[str, Any]:
    """A modal view (https://api.slack.com/reference/surfaces/views); the core's state and the
    channel it was opened from travel in private_metadata."""
    blocks: list[dict[str, Any]] = []
    for field in form.fields:
        element: dict[str, Any]
        if field.kind == "select":
            options = [{"text": _text(o, 75), "value": o} for o in field.options[:100]]
            element = {"type": "static_select", "action_id": VALUE, "options": options}
            chosen = [o for o in options if o["value"] == field.value]
            if chosen:
                element["initial_option"] = chosen[0]
        else:
            element = {
                "type": "plain_text_input",
                "action_id": VALUE,
                "multiline": field.kind == "multiline",
            }
            if field.value:
                element["initial_value"] = field.value[:3000]
            if field.max_length:
                element["max_length"] = min(field.max_length, 3000)
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.id,
            "label": _text(field.label, 2000),
            "optional": field.optional,
            "element": element,
        }
        if field.hint:
            block["hint"] = _text(field.hint, 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _text(form.title, 24),
        "submit": _text(form.submit, 24),
        "close": _text("Cancel", 24),
        "private_metadata": json.dumps({"c": channel, "s": form.state}),
        "blocks": blocks,
    }


def from_view_submission(body: Mapping[str, Any]) -> FormSubmitted:
    view: Mapping[str, Any] = body.get("view") or {}
    ws = WorkspaceRef(Platform.SLACK, team_id(body) or str(view.get("team_id") or ""))
    try:
        meta = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    values: dict[str, str] = {}
    state: Mapping[str, Any] = (view.get("state") or {}).get("values") or {}
    for block_id, actions in state.items():
        element = (actions or {}).get(VALUE) or {}
        if element.get("type") == "static_select":
            values[block_id] = str((element.get("selected_option") or {}).get("value") or "")
        else:
            values[block_id] = normalise_text(str(element.get("value") or ""))
    return FormSubmitted(
        # Slack repeats a submission's view id and hash on a retry.
        event_id=f"view:{view.get('id')}:{view.get('hash')}",
        actor=UserRef(ws, str((body.get("user") or {}).get("id") or "")),
        occurred_at=datetime.now(UTC),
        form_id=str(view.get("callback_id") or ""),
        values=values,
        state=str(meta.get("s") or ""),
        conversation=_conversation(ws, meta.get("c")),
        raw=body,
    )


def field_errors(reply: Reply, body: Mapping[str, Any]) -> dict[str, str]:
    """The core's field errors keyed by block id; errors for the whole form go on its first
    field, since a modal shows errors next to inputs only."""
    blocks = [b.get("block_id") for b in (body.get("view") or {}).get("blocks") or []]
    out: dict[str, str] = {}
    for field, problem in reply.form_errors.items():
        block = field if field in blocks else (blocks[0] if blocks else field)
        out[str(block)] = problem[:2000]
    return out


def from_message_shortcut(
    body: Mapping[str, Any], workspace_url: str | None
) -> MessageActionInvoked:
    ws = WorkspaceRef(Platform.SLACK, team_id(body) or "")
    channel = str((body.get("channel") or {}).get("id") or "")
    message: Mapping[str, Any] = body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    conv = _conversation(ws, channel) or ConversationRef(ws, channel)
    author = message.get("user")
    return MessageActionInvoked(
        event_id=f"shortcut:{body.get('trigger_id') or ts}",
        actor=UserRef(ws, str((body.get("user") or {}).get("id") or "")),
        occurred_at=datetime.now(UTC),
        action=str(body.get("callback_id") or ""),
        message=MessageRef(
            conv, ts, thread_id=message.get("thread_ts"), link=permalink(workspace_url, channel, ts)
        ),
        message_author=UserRef(ws, str(author)) if author else None,
        message_text=normalise_text(str(message.get("text") or "")),
        profiles={str(author): Profile(is_bot=bool(message.get("bot_id")))} if author else {},
        raw=body,
    )
