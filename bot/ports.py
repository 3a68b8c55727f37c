"""The port: the only way the core reaches a chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.ids import ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Target


@dataclass(frozen=True, slots=True)
class Capabilities:
    ephemeral: bool  # can show a message to one person inside a shared conversation
    reactions_on_any_message: bool  # Teams only reports reactions on the bot's own posts
    command_prefix: str  # how people type a subcommand there: "/ally " on Slack, "" on Teams
    home_tab: bool = False  # a per-person home view the bot keeps up to date (Slack App Home)
    # The reactions people use to say thanks there when a workspace configured none (Slack
    # emoji names; Teams has a fixed set of reaction types).
    default_reactions: tuple[str, ...] = ()
    # Pacing of sends per lane (one channel, group chat or DM; bot/pacing.py): at most
    # `lane_burst` sends at once, then one per `lane_interval` seconds. 0 means unpaced.
    lane_interval: float = 0.0
    lane_burst: int = 1
    # The same for all sends in one workspace or tenant together (Teams' per-tenant limit).
    workspace_interval: float = 0.0
    workspace_burst: int = 1


@dataclass(frozen=True, slots=True)
class UserInfo:
    display_name: str
    tz: str | None
    is_bot: bool
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Sent:
    conversation_id: str
    message_id: str


class Rejection(StrEnum):
    """The platform refused the bot itself, not this one message: every send there fails
    alike until someone fixes it, so the admins are told (bot/delivery.py)."""

    UNAUTHORIZED = "unauthorized"  # its credentials: a revoked, expired or wrong token
    FORBIDDEN = "forbidden"  # a permission it lacks: a missing scope, a blocked app


class DeliveryError(Exception):
    """A send failed. `retryable` failures are tried again later (after `retry_after` seconds
    when the platform said so); others are final (e.g. the user left the workspace).
    `rejected` marks the final ones that are the bot's own (its token, its scopes), with the
    platform's `code` for them ("token_revoked", "missing_scope", "HTTP 401")."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        rejected: Rejection | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after
        self.rejected = rejected
        self.code = code


class AddressBook(Protocol):
    """What a port may ask the core to keep for it: how to reach a person privately later,
    as an opaque value only that port encodes and reads (a Teams conversation reference)."""

    async def remember_route(self, user: UserRef, address: str) -> None: ...

    async def route(self, user: UserRef) -> str | None: ...

    async def latest_route(self, workspace: WorkspaceRef) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Presence:
    """What the platform says about whether a person wants to be disturbed right now."""

    do_not_disturb: bool = False  # Slack's Do Not Disturb (snooze or scheduled DND)
    status_text: str = ""  # the person's status line ("Out of office", "Vacationing")
    status_emoji: str = ""  # Slack emoji name without colons ("palm_tree")


@runtime_checkable
class PresenceReader(Protocol):
    """A port that can tell whether a person is in Do Not Disturb or away (Slack's dnd.info and
    profile status). The core caches answers briefly; None means the platform could not say."""

    async def presence(self, user: UserRef) -> Presence | None: ...


@runtime_checkable
class ChannelMembership(Protocol):
    """A port that can tell whether the bot is in a channel (Slack's conversations.info
    is_member), so a help channel it cannot read is refused with a reason. None: cannot say."""

    async def bot_in_channel(self, conversation: ConversationRef) -> bool | None: ...


@runtime_checkable
class MessageReader(Protocol):
    """A port that can read a message's text back (Slack's conversations.history)."""

    async def message_text(self, message: MessageRef) -> str | None: ...


class ChatPort(Protocol):
    platform: Platform
    capabilities: Capabilities

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        """Posts a message; returns where it landed when the platform says (ephemerals don't)."""
        ...

    async def update(self, workspace: WorkspaceRef, sent: Sent, message: Message) -> None: ...

    async def publish_home(self, user: UserRef, message: Message) -> None:
        """Replaces the person's home view; only called when capabilities.home_tab."""
        ...

    async def user_info(self, user: UserRef) -> UserInfo | None:
        """The person's profile, or None when the platform does not know them."""
        ...


class ChannelNotCreated(Exception):
    """The platform refused to create a channel. `code` is the platform's reason
    ("name_taken", "invalid_name", "missing_scope", ...); `retryable` when trying again later
    may help (the platform was unreachable)."""

    def __init__(self, code: str, *, retryable: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


@runtime_checkable
class ChannelCreator(Protocol):
    """A port that can create a channel (Slack's conversations.create) and add people to it
    (conversations.invite). Teams bots cannot: the core tells a community manager what to do."""

    async def create_channel(
        self,
        workspace: WorkspaceRef,
        name: str,
        private: bool,
        members: tuple[UserRef, ...] = (),
    ) -> str:
        """Creates the channel and invites `members`; returns its id. Raises ChannelNotCreated."""
        ...
