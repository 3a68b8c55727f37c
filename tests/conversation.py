"""The `chat` fixture: capability tests written as a conversation with the core (errbot's testbot).

    async def test_thanks(chat: Chat) -> None:
        reply = await chat.say("ana", "kudos @bo thanks for the demo")
        assert "Kudos sent to @Bo" in reply
        (dm,) = chat.pop("bo")
        assert "Ana gave you kudos" in dm

It drives the `core` fixture only through its public surface, `core.handle(event)` and
`core.run_due()`, and reads what was delivered from the `port` fixture (a MemoryPort), so
it does not depend on how the core is put together. People are the port's users ("ana", "bo",
...); `@name` in typed text becomes the core's mention token for that id. Every step runs the jobs
that are due, so deliveries have happened by the time it returns. Registered in conftest.py's
``pytest_plugins``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import pytest

from bot.clock import ManualClock
from bot.events import ActionPressed, Event, MessagePosted
from bot.ids import ConversationKind, ConversationRef, MessageRef, UserRef, WorkspaceRef
from bot.messages import Private, Reply, ToConversation, ToUser, plain_text
from bot.text import mention_token
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort, Posted

__all__ = ["Chat", "ChatMessage", "chat"]

# "@bo", "@dee-lee", "@ana.b" -- but not the "@" in "ana@example.com", nor a trailing full stop.
_press_ids = itertools.count(1)
_TYPED_MENTION = re.compile(r"(?<![\w@<])@(\w+(?:[.-]\w+)*)")


class _Core(Protocol):
    async def run_due(self) -> int: ...

    async def handle(self, event: Event) -> Reply | None: ...


@dataclass(frozen=True)
class ChatMessage:
    """A message someone posted, for reacting to."""

    ref: MessageRef
    author: UserRef | None


class Chat:
    def __init__(
        self, core: _Core, port: MemoryPort, clock: ManualClock, workspace_id: str = "acme"
    ) -> None:
        self.core = core
        self.port = port
        self.clock = clock
        self.workspace = WorkspaceRef(port.platform, workspace_id)
        self._read: dict[str, int] = {}  # per reader, how many of their deliveries were popped
        self._messages = 0

    # ----- who and where

    def user(self, user_id: str) -> UserRef:
        return UserRef(self.workspace, user_id)

    def conversation(self, where: str, who: str = "") -> ConversationRef:
        """A channel by name, or with ``where="dm"`` the direct chat between ``who`` and the bot."""
        if where == "dm":
            return ConversationRef(self.workspace, f"dm-{who}", ConversationKind.DIRECT)
        return ConversationRef(self.workspace, where, ConversationKind.CHANNEL)

    @staticmethod
    def typed(text: str) -> str:
        """Text as the core sees it: ``@bo`` becomes the mention token for user id ``bo``."""
        return _TYPED_MENTION.sub(lambda m: mention_token(m.group(1)), text)

    # ----- what people do

    async def say(
        self, who: str, text: str, *, where: str = "general", event_id: str | None = None
    ) -> str:
        """``who`` runs the bot's command ``text`` (e.g. ``"kudos @bo thanks"``) in ``where``;
        returns the plain text of the bot's answer to them, or "" when there is none."""
        event = command(
            self.user(who),
            self.typed(text),
            self.conversation(where, who),
            self.clock.now(),
            event_id=event_id,
        )
        return await self._handle(event)

    def message(self, author: str | None, *, where: str = "general") -> ChatMessage:
        """A message ``author`` posted in ``where`` (None: an author the platform did not say)."""
        self._messages += 1
        ref = MessageRef(self.conversation(where, author or ""), f"msg-{self._messages}")
        return ChatMessage(ref, self.user(author) if author else None)

    async def react(
        self, who: str, message: ChatMessage, emoji: str = "clap", *, event_id: str | None = None
    ) -> str:
        """``who`` adds the ``emoji`` reaction to ``message``; returns the bot's answer, if any."""
        return await self._react(who, message, emoji, added=True, event_id=event_id)

    async def unreact(
        self, who: str, message: ChatMessage, emoji: str = "clap", *, event_id: str | None = None
    ) -> str:
        """``who`` removes their ``emoji`` reaction from ``message``."""
        return await self._react(who, message, emoji, added=False, event_id=event_id)

    async def post(
        self, who: str, text: str, *, where: str = "general", event_id: str | None = None
    ) -> ChatMessage:
        """``who`` posts ``text`` as a top-level message in channel ``where`` (not to the bot)."""
        message = self.message(who, where=where)
        await self._post(who, message.ref, text, event_id)
        return message

    async def reply(
        self, who: str, to: ChatMessage, text: str, *, event_id: str | None = None
    ) -> ChatMessage:
        """``who`` replies in the thread of ``to``."""
        self._messages += 1
        ref = MessageRef(to.ref.conversation, f"msg-{self._messages}", thread_id=to.ref.id)
        await self._post(who, ref, text, event_id)
        return ChatMessage(ref, self.user(who))

    async def press(
        self, who: str, action_id: str, value: str = "", *, event_id: str | None = None
    ) -> str:
        """``who`` presses a button of one of the bot's cards; returns the bot's answer."""
        event = ActionPressed(
            event_id=event_id or f"press-{next(_press_ids)}",
            actor=self.user(who),
            occurred_at=self.clock.now(),
            action_id=action_id,
            value=value,
            conversation=self.conversation("dm", who),
        )
        return await self._handle(event)

    def buttons(self, who: str) -> list[tuple[str, str, str]]:
        """(label, action id, value) of every button in cards delivered to ``who``."""
        return [
            (b.label, b.action_id, b.value)
            for p in self.port.posted
            if isinstance(p.target, ToUser | Private)
            and p.target.user.id == who
            and p.message.card is not None
            for b in p.message.card.buttons
        ]

    async def later(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> None:
        """Time passes; the jobs that fall due meanwhile run."""
        self.clock.advance(timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds))
        await self.core.run_due()

    # ----- what the bot delivered

    def pop(self, who: str) -> list[str]:
        """Plain texts of everything delivered to ``who`` (DMs and private notes) since the last
        ``pop(who)``, oldest first."""
        return self._unread(
            who,
            lambda p: isinstance(p.target, ToUser | Private) and p.target.user.id == who,
        )

    def channel(self, name: str) -> list[str]:
        """Plain texts of what the bot posted in conversation ``name`` since the last call."""
        return self._unread(
            f"#{name}",
            lambda p: isinstance(p.target, ToConversation) and p.target.conversation.id == name,
        )

    # ----- internals

    async def _react(
        self, who: str, message: ChatMessage, emoji: str, *, added: bool, event_id: str | None
    ) -> str:
        event = reaction(
            self.user(who),
            message.ref,
            message.author,
            self.clock.now(),
            emoji=emoji,
            added=added,
            event_id=event_id,
        )
        return await self._handle(event)

    async def _post(self, who: str, ref: MessageRef, text: str, event_id: str | None) -> None:
        event = MessagePosted(
            event_id=event_id or f"post-{next(_press_ids)}",
            actor=self.user(who),
            occurred_at=self.clock.now(),
            message=ref,
            text=self.typed(text),
        )
        await self._handle(event)

    async def _handle(self, event: Event) -> str:
        reply = await self.core.handle(event)
        await self.core.run_due()
        return plain_text(reply.message.text) if reply is not None else ""

    def _unread(self, reader: str, delivered_to: Callable[[Posted], bool]) -> list[str]:
        texts = [p.text for p in self.port.posted if delivered_to(p)]
        seen = self._read.get(reader, 0)
        self._read[reader] = len(texts)
        return texts[seen:]


@pytest.fixture
def chat(core: _Core, port: MemoryPort, clock: ManualClock) -> Chat:
    """The core as a chat; see this module's docstring."""
    return Chat(core, port, clock)
