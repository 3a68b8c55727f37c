"""Inbound events: what adapters translate platform payloads into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.ids import ConversationRef, MessageRef, UserRef, WorkspaceRef


@dataclass(frozen=True, slots=True)
class Profile:
    """What the platform told us about a person along with the event (saves a look-up)."""

    display_name: str | None = None
    tz: str | None = None
    is_bot: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Event:
    # The platform's delivery id (Slack event_id / trigger_id, Teams activity id): retries of
    # the same delivery carry the same id, which is how duplicates are recognised.
    event_id: str
    actor: UserRef
    occurred_at: datetime
    actor_profile: Profile | None = None
    # Profiles of other people the payload described (mentioned users, a message's author),
    # keyed by user id: spares a look-up, and is all Teams offers without one.
    profiles: Mapping[str, Profile] = field(default_factory=dict, repr=False, compare=False)
    # The untouched platform payload, for adapters only; the core never reads it.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def workspace(self) -> WorkspaceRef:
        return self.actor.workspace


@dataclass(frozen=True, kw_only=True)
class MessagePosted(Event):
    message: MessageRef
    text: str  # mentions normalised to <@USER_ID>
    addressed_to_bot: bool = False  # a DM to the bot or a message that @mentions it


@dataclass(frozen=True, kw_only=True)
class ReactionChanged(Event):
    message: MessageRef
    reaction: str  # Slack emoji name without colons, Teams reaction type
    added: bool
    message_author: UserRef | None = None


@dataclass(frozen=True, kw_only=True)
class CommandInvoked(Event):
    conversation: ConversationRef
    name: str  # the slash command's name ("ally", "kudos"), or "" for words typed to the bot
    text: str  # the arguments, mentions normalised to <@USER_ID>
    thread_id: str | None = None  # typed in a thread: public answers go to that thread


@dataclass(frozen=True, kw_only=True)
class MessageActionInvoked(Event):
    """A message action (Teams "Give kudos", a Slack message shortcut) on someone's message."""

    action: str
    message: MessageRef
    message_author: UserRef | None
    message_text: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ActionPressed(Event):
    """A button in one of the bot's cards."""

    action_id: str
    value: str
    conversation: ConversationRef | None = None
    message: MessageRef | None = None


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Event):
    """A form the core asked for (see `bot.messages.Form`) was filled in and sent."""

    form_id: str
    values: Mapping[str, str]
    state: str = ""
    conversation: ConversationRef | None = None  # where it was opened, when the platform says


@dataclass(frozen=True, kw_only=True)
class MemberJoined(Event):
    conversation: ConversationRef


@dataclass(frozen=True, kw_only=True)
class HomeOpened(Event):
    """The person opened the bot's home view (Slack's App Home tab)."""
