"""Platform-qualified identities: the same user id may exist in two workspaces or platforms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    platform: Platform
    id: str  # Slack team id, Teams tenant id, console workspace name

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True, slots=True)
class UserRef:
    workspace: WorkspaceRef
    id: str

    def __str__(self) -> str:
        return f"{self.workspace}:{self.id}"


class ConversationKind(StrEnum):
    CHANNEL = "channel"  # a shared space: Slack channel, Teams channel or group chat
    DIRECT = "direct"  # a one-to-one chat with the bot


@dataclass(frozen=True, slots=True)
class ConversationRef:
    workspace: WorkspaceRef
    id: str
    kind: ConversationKind = ConversationKind.CHANNEL


@dataclass(frozen=True, slots=True)
class MessageRef:
    conversation: ConversationRef
    id: str  # Slack ts, Teams activity id, console message number
    thread_id: str | None = None
    link: str | None = None  # permalink where the platform gives one

    @property
    def key(self) -> str:
        """Natural key of the message within its workspace."""
        return f"msg:{self.conversation.id}:{self.id}"
