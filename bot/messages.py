"""Outbound messages: a small rich-text and card model that every adapter renders.

User-supplied text always travels as `Plain`, which each adapter escapes for its platform, so a
reason containing `<!channel>` or markup can never ping or inject.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.ids import ConversationRef, UserRef


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Plain(_Model):
    kind: Literal["plain"] = "plain"
    text: str


class Strong(_Model):
    kind: Literal["strong"] = "strong"
    text: str


class Code(_Model):
    kind: Literal["code"] = "code"
    text: str


class Mention(_Model):
    """Names a person and notifies them."""

    kind: Literal["mention"] = "mention"
    user: UserRef
    name: str


class Name(_Model):
    """Names a person without notifying them (leaderboards, announcements of others)."""

    kind: Literal["name"] = "name"
    user: UserRef
    name: str


class Link(_Model):
    kind: Literal["link"] = "link"
    url: str
    label: str


class ChannelName(_Model):
    """Names a channel without notifying anyone: Slack shows its name from the id, other
    platforms show `name` (Teams channel ids are not for people's eyes)."""

    kind: Literal["channel"] = "channel"
    id: str
    name: str = ""


Inline = Annotated[
    Plain | Strong | Code | Mention | Name | Link | ChannelName, Field(discriminator="kind")
]
Rich = tuple[Inline, ...]


def rich(*parts: str | Plain | Strong | Code | Mention | Name | Link | ChannelName) -> Rich:
    """Builds rich text; bare strings are plain (escaped) text."""
    return tuple(Plain(text=p) if isinstance(p, str) else p for p in parts)


def plain_text(text: Rich) -> str:
    """A platform-free rendering, for logs, fallbacks and the console."""
    out: list[str] = []
    for part in text:
        match part:
            case Plain() | Strong() | Code():
                out.append(part.text)
            case Mention() | Name():
                out.append(f"@{part.name}")
            case Link():
                out.append(f"{part.label} ({part.url})")
            case ChannelName():
                out.append(f"#{part.name or part.id}")
    return "".join(out)


class CardField(_Model):
    label: str
    value: Rich


class Button(_Model):
    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


class Section(_Model):
    text: Rich = ()
    fields: tuple[CardField, ...] = ()


class Card(_Model):
    title: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: Rich = ()


class FileAttachment(_Model):
    """A file sent with a message (an export): uploaded on Slack, attached on Teams, written to
    disk by the console."""

    name: str
    content: str
    mime: str = "text/csv"


class Message(_Model):
    """Text is always present: it is the notification text and the fallback for cards."""

    text: Rich
    card: Card | None = None
    file: FileAttachment | None = None


# Where a message goes.
class ToConversation(_Model):
    kind: Literal["conversation"] = "conversation"
    conversation: ConversationRef
    thread_id: str | None = None


class ToUser(_Model):
    """A direct message to a person."""

    kind: Literal["user"] = "user"
    user: UserRef


class Private(_Model):
    """Only `user` sees it, in `conversation` where the platform allows, else as a DM."""

    kind: Literal["private"] = "private"
    user: UserRef
    conversation: ConversationRef


Target = Annotated[ToConversation | ToUser | Private, Field(discriminator="kind")]


class Outbound(_Model):
    """A message to send. `key` names it so it can be edited later (see `Edit`)."""

    target: Target
    message: Message
    key: str | None = None


class Edit(_Model):
    """Replace the content of a message sent earlier under `key`."""

    key: str
    message: Message


class FormField(_Model):
    """One input of a form: a single- or multi-line text (optionally prefilled) or a select."""

    id: str
    label: str
    kind: Literal["text", "multiline", "select"] = "text"
    value: str = ""  # prefilled text, or the preselected option
    options: tuple[str, ...] = ()  # for selects
    optional: bool = False
    max_length: int | None = None
    hint: str = ""


class Form(_Model):
    """A dialog the core asks an adapter to open (Slack modal, Teams task module or card, console
    prompt). Its submission comes back as `FormSubmitted` with `form_id` and the opaque `state`."""

    form_id: str  # routed like button action ids: by the part before ":"
    title: str
    fields: tuple[FormField, ...]
    submit: str = "Submit"
    state: str = ""


class Reply(_Model):
    """The answer to whoever invoked a command or action, shown where they are, privately
    when the platform can. With `form`, the adapter opens it (the message is its fallback);
    `form_errors` (field id -> problem, "" for the form as a whole) rejects a submitted form."""

    message: Message
    form: Form | None = None
    form_errors: dict[str, str] = Field(default_factory=dict)
