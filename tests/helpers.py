"""Small builders for core events in tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import ManualClock
from bot.events import CommandInvoked, ReactionChanged
from bot.ids import ConversationRef, MessageRef, UserRef

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Allybot
    from store import Database

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


async def deliver_all(core: Allybot, within: float = 10.0) -> None:
    """Applies the inbox and runs due jobs, moving a manual clock through the pauses the queue
    takes on purpose (paced lanes, short Retry-After waits), up to `within` seconds ahead."""
    from store import jobs as job_store

    clock = core.services.clock
    assert isinstance(clock, ManualClock)
    deadline = clock.now() + timedelta(seconds=within)
    while True:
        await core.run_due()
        async with core.services.db.transaction() as session:
            due = await job_store.next_due(session)
        if due is None or due > deadline:
            return
        clock.set(max(due, clock.now()))


async def console_workspace(db: Database, clock: Clock) -> int:
    """The id of the console workspace "acme", added if new (store-level tests)."""
    from store import workspaces as ws_store

    async with db.transaction() as session:
        return (await ws_store.ensure_workspace(session, "console", "acme", clock.now())).id
