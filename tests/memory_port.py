"""An in-memory ChatPort for driving the core directly (the platform, not the core, is faked)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.ids import ConversationRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Private, Target, ToConversation, ToUser, plain_text
from bot.ports import Capabilities, DeliveryError, Presence, Sent, UserInfo


@dataclass
class Posted:
    target: Target
    message: Message
    sent: Sent | None

    @property
    def text(self) -> str:
        return plain_text(self.message.text)


@dataclass
class MemoryPort:
    platform: Platform = Platform.CONSOLE
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            ephemeral=True, reactions_on_any_message=True, command_prefix="/ally "
        )
    )
    users: dict[str, UserInfo] = field(default_factory=dict)
    posted: list[Posted] = field(default_factory=list)
    updates: list[tuple[Sent, Message]] = field(default_factory=list)
    fail_sends: int = 0
    # What `presence` answers, by user id (a PresenceReader, as Slack's dnd.info + status).
    presences: dict[str, Presence] = field(default_factory=dict)
    presence_calls: int = 0
    # Channels the bot is in; None: the port cannot say (ChannelMembership).
    joined: set[str] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, user_id: str, name: str, *, tz: str = "UTC", is_bot: bool = False) -> None:
        self.users[user_id] = UserInfo(display_name=name, tz=tz, is_bot=is_bot)

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        if self.fail_sends:
            self.fail_sends -= 1
            raise DeliveryError("platform unavailable", retryable=True, retry_after=1)
        sent = None
        if isinstance(target, ToConversation):
            sent = Sent(target.conversation.id, f"m{next(self._ids)}")
        elif isinstance(target, ToUser):
            sent = Sent(f"D-{target.user.id}", f"m{next(self._ids)}")
        self.posted.append(Posted(target, message, sent))
        return sent

    async def update(self, workspace: WorkspaceRef, sent: Sent, message: Message) -> None:
        self.updates.append((sent, message))

    async def publish_home(self, user: UserRef, message: Message) -> None:
        # No home view here (capabilities.home_tab is False): `home` is a command instead.
        raise NotImplementedError

    async def user_info(self, user: UserRef) -> UserInfo | None:
        return self.users.get(user.id)

    async def presence(self, user: UserRef) -> Presence | None:
        self.presence_calls += 1
        return self.presences.get(user.id, Presence())

    async def bot_in_channel(self, conversation: ConversationRef) -> bool | None:
        return None if self.joined is None else conversation.id in self.joined

    def dms_to(self, user_id: str) -> list[Posted]:
        return [
            p for p in self.posted if isinstance(p.target, ToUser) and p.target.user.id == user_id
        ]

    def private_to(self, user_id: str) -> list[Posted]:
        return [
            p for p in self.posted if isinstance(p.target, Private) and p.target.user.id == user_id
        ]

    def in_conversation(self, conversation_id: str) -> list[Posted]:
        return [
            p
            for p in self.posted
            if isinstance(p.target, ToConversation) and p.target.conversation.id == conversation_id
        ]
