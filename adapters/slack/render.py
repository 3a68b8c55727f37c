"""Core messages -> Slack text (mrkdwn) and Block Kit."""

from __future__ import annotations

import re
from typing import Any

from bot.messages import (
    Card,
    ChannelName,
    Code,
    Link,
    Mention,
    Message,
    Name,
    Plain,
    Rich,
    Strong,
)

# A Slack conversation id (C…, G…, D…): the only thing put unescaped into <#…>.
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,40}")

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
MAX_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTONS = 25


def escape(text: str) -> str:
    """Slack's three control characters; with them escaped, `<!channel>` or `<@U1>` typed by a
    person is shown as text and never pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_label(text: str) -> str:
    # Inside <url|label> a '|' or '>' would end the label early.
    return escape(text).replace("|", "¦")


def mrkdwn(text: Rich) -> str:
    out: list[str] = []
    for part in text:
        match part:
            case Plain():
                out.append(escape(part.text))
            case Strong():
                out.append(f"*{escape(part.text).replace('*', '')}*")
            case Code():
                code = escape(part.text).replace("`", "'")
                out.append(f"`{code}`")
            case Mention():
                out.append(f"<@{part.user.id}>")
            case Name():
                out.append(f"*{escape(part.name).replace('*', '')}*")
            case Link():
                url = part.url.replace(">", "%3E").replace("|", "%7C")
                out.append(f"<{url}|{_safe_label(part.label)}>")
            case ChannelName():
                # Slack shows the channel's current name for its id; only ids pass through.
                out.append(
                    f"<#{part.id}>"
                    if _CHANNEL_ID.fullmatch(part.id)
                    else escape(f"#{part.name or part.id}")
                )
    return "".join(out)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks(card: Card) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(card.title, 150)}}
    ]
    for section in card.sections:
        block: dict[str, Any] = {"type": "section"}
        if section.text:
            block["text"] = {"type": "mrkdwn", "text": _clip(mrkdwn(section.text), MAX_TEXT)}
        if section.fields:
            block["fields"] = [
                {
                    "type": "mrkdwn",
                    "text": _clip(f"*{escape(f.label)}*\n{mrkdwn(f.value)}", MAX_FIELD_TEXT),
                }
                for f in section.fields[:MAX_FIELDS]
            ]
        if "text" in block or "fields" in block:
            out.append(block)
    if card.buttons:
        elements = []
        for button in card.buttons[:MAX_BUTTONS]:
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": _clip(button.label, 75)},
                "action_id": button.action_id,
                "value": button.value,
            }
            if button.style:
                element["style"] = button.style
            elements.append(element)
        out.append({"type": "actions", "elements": elements})
    if card.context:
        out.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(card.context)}]}
        )
    return out


def render(message: Message) -> dict[str, Any]:
    """Keyword arguments for chat.postMessage / chat.update / an ack body."""
    args: dict[str, Any] = {"text": _clip(mrkdwn(message.text), 39000)}
    if message.card is not None:
        args["blocks"] = blocks(message.card)
    return args


def home_blocks(message: Message) -> list[dict[str, Any]]:
    """An App Home view: the card, or the text alone as one section."""
    if message.card is not None:
        return blocks(message.card)
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(mrkdwn(message.text), MAX_TEXT)},
        }
    ]
