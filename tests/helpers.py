"""Small builders for core events in tests."""

from __future__ import annotations

import itertools
from datetime import datetime

from bot.events import CommandInvoked, ReactionChanged
from bot.ids import ConversationRef, MessageRef, UserRef

_ids = itertools.count(1)


def command(
    actor: UserRef,
    text: str,
    conversation: ConversationRef,
    when: datetime,
    *,
    name: str = "ally",
    event_id: str | None = None,
) -> CommandInvoked:
    return CommandInvoked(
        event_id=event_id or f"cmd-{next(_ids)}",
        actor=actor,
        occurred_at=when,
        conversation=conversation,
        name=name,
        text=text,
    )


def reaction(
    actor: UserRef,
    message: MessageRef,
    author: UserRef | None,
    when: datetime,
    *,
    emoji: str = "clap",
    added: bool = True,
    event_id: str | None = None,
) -> ReactionChanged:
    return ReactionChanged(
        event_id=event_id or f"ev-{next(_ids)}",
        actor=actor,
        occurred_at=when,
        message=message,
        reaction=emoji,
        added=added,
        message_author=author,
    )
