"""Core messages -> Teams: markdown text with <at> mentions, and Adaptive Cards as plain dicts.

Everything a person typed arrives as `Plain` and is escaped here, so a kudos reason can neither
format the bot's message nor mention anyone: only `Mention` parts produce mention entities.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
)
from botbuilder.schema import (
    Mention as MentionEntity,
)

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

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

_MARKDOWN = re.compile(r"([\\*_~`\[\]#])")
_URL_UNSAFE = re.compile(r"[\s()<>\[\]]")


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_url(url: str) -> str | None:
    """Only web links become links; characters that would end the markdown link are encoded."""
    if not url.lower().startswith(("https://", "http://")):
        return None
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", url)


@dataclass
class Rendered:
    text: str
    mentions: list[dict[str, Any]] = field(default_factory=list)  # Bot Framework mention entities


class _Style:
    """How one surface escapes: message text is markdown plus HTML; Adaptive Card text blocks
    are markdown only (HTML is shown literally there) and have no code spans."""

    def __init__(self, *, card: bool) -> None:
        self.card = card

    def escape(self, text: str) -> str:
        escaped = escape_markdown(text)
        return escaped if self.card else escape_html(escaped)

    def newline(self) -> str:
        # Teams drops single newlines in markdown messages; cards need a blank line.
        return "\n\n" if self.card else "<br>"

    def mention_name(self, name: str) -> str:
        # Cards show text literally, so only the characters that would break the tag go.
        return re.sub(r"[<>]", "", name) if self.card else escape_html(name)

    def code(self, text: str) -> str:
        if self.card:
            return self.escape(text)
        fence = "``" if "`" in text else "`"
        return f"{fence}{escape_html(text)}{fence}"


def _render(parts: Rich, style: _Style) -> Rendered:
    out: list[str] = []
    mentions: list[dict[str, Any]] = []
    for part in parts:
        match part:
            case Plain():
                lines = [style.escape(line) for line in part.text.split("\n")]
                out.append(style.newline().join(lines))
            case Strong():
                out.append(f"**{style.escape(part.text)}**")
            case Code():
                out.append(style.code(part.text))
            case Mention():
                # The entity's text must repeat the <at> tag exactly as it appears in the text.
                tag = f"<at>{style.mention_name(part.name)}</at>"
                out.append(tag)
                entity = {
                    "type": "mention",
                    "text": tag,
                    "mentioned": {"id": part.user.id, "name": part.name},
                }
                if entity not in mentions:
                    mentions.append(entity)
            case Name():
                out.append(f"**{style.escape(part.name)}**")
            case Link():
                url = _safe_url(part.url)
                label = style.escape(part.label)
                out.append(f"[{label}]({url})" if url else f"{label} ({style.escape(part.url)})")
            case ChannelName():
                out.append(f"**{style.escape(part.name or 'the channel')}**")
    return Rendered("".join(out), mentions)


def render_text(parts: Rich) -> Rendered:
    """For a message's text (textFormat markdown)."""
    return _render(parts, _Style(card=False))


def render_card_text(parts: Rich) -> Rendered:
    """For Adaptive Card TextBlocks and facts."""
    rendered = _render(parts, _Style(card=True))
    rendered.text = rendered.text.strip()
    return rendered


def render_plain(parts: Rich) -> str:
    """Unformatted text, for surfaces that show text as is (a compose extension's answer)."""
    out: list[str] = []
    for part in parts:
        match part:
            case Plain() | Strong() | Code():
                out.append(part.text)
            case Mention() | Name():
                out.append(part.name)
            case Link():
                out.append(f"{part.label} ({part.url})")
            case ChannelName():
                out.append(part.name or "the channel")
    return "".join(out)


def render_card(card: Card) -> dict[str, Any]:
    """An Adaptive Card 1.5: a bold title, each section's text and facts, a subtle context line,
    and buttons as Action.Submit whose data comes back as the message's `value`."""
    mentions: list[dict[str, Any]] = []

    def block(parts: Rich, **extra: Any) -> dict[str, Any] | None:
        rendered = render_card_text(parts)
        mentions.extend(m for m in rendered.mentions if m not in mentions)
        if not rendered.text:
            return None
        return {"type": "TextBlock", "text": rendered.text, "wrap": True, **extra}

    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape_markdown(card.title),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    for section in card.sections:
        text = block(section.text, spacing="Medium")
        if text is not None:
            body.append(text)
        if section.fields:
            facts = []
            for item in section.fields:
                value = render_card_text(item.value)
                mentions.extend(m for m in value.mentions if m not in mentions)
                facts.append({"title": escape_markdown(item.label), "value": value.text})
            body.append({"type": "FactSet", "facts": facts})
    context = block(card.context, size="Small", isSubtle=True, spacing="Medium")
    if context is not None:
        body.append(context)

    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if card.buttons:
        actions = []
        for button in card.buttons:
            action: dict[str, Any] = {
                "type": "Action.Submit",
                "title": button.label,
                "data": {"action_id": button.action_id, "value": button.value},
            }
            if button.style == "primary":
                action["style"] = "positive"
            elif button.style == "danger":
                action["style"] = "destructive"
            actions.append(action)
        content["actions"] = actions
    if mentions:
        content["msteams"] = {"entities": mentions}
    return content


def to_activity(message: Message) -> Any:
    """A botbuilder message Activity (typed Any: botbuilder ships no type information)."""
    rendered = render_text(message.text)
    activity = Activity(
        type=ActivityTypes.message,
        text=rendered.text,
        text_format="markdown",
        entities=[
            MentionEntity(
                type="mention",
                text=m["text"],
                mentioned=ChannelAccount(id=m["mentioned"]["id"], name=m["mentioned"]["name"]),
            )
            for m in rendered.mentions
        ]
        or None,
    )
    if message.file is not None:
        # An export: attached inline (Teams offers file cards only through a consent flow).
        encoded = base64.b64encode(message.file.content.encode("utf-8")).decode("ascii")
        activity.attachments = [
            Attachment(
                content_type=message.file.mime,
                name=message.file.name,
                content_url=f"data:{message.file.mime};base64,{encoded}",
            )
        ]
    if message.card is not None:
        # The text stays: it is what notifications and the chat list show for a card.
        activity.summary = render_plain(message.text)
        activity.attachments = [
            Attachment(content_type=ADAPTIVE_CARD, content=render_card(message.card))
        ]
    return activity
