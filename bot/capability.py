"""What a capability declares to the kernel, so the kernel can dispatch without knowing it.

Each capability package has a `capability.py` whose `build(...)` returns one `Capability`. The
bootstrap collects them, and `check` refuses two capabilities claiming the same command, action
prefix, message action, form, job kind, setting or permission (a collision would silently route
one capability's traffic to another).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.commands import Subcommand
from bot.events import (
    ActionPressed,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessageActionInvoked,
    MessagePosted,
    ReactionChanged,
)
from bot.messages import Reply
from bot.roles import Permission
from bot.work import Work

ActionHandler = Callable[[ActionPressed], Awaitable[Reply | None]]
MessageActionHandler = Callable[[MessageActionInvoked], Awaitable[Reply | None]]
FormHandler = Callable[[FormSubmitted], Awaitable[Reply | None]]
# Listeners run inside the event's one unit of work (claimed once by the kernel), each in a
# savepoint of its own: one listener's failure never hides the event from the others.
ReactionListener = Callable[[Work, ReactionChanged], Awaitable[None]]
MessageListener = Callable[[Work, MessagePosted], Awaitable[None]]
HomeListener = Callable[[Work, HomeOpened], Awaitable[None]]
JoinListener = Callable[[Work, MemberJoined], Awaitable[None]]
JobHandler = Callable[[str], Awaitable[None]]
# Follow-up events (e.g. a kudos counted) are handled inside the transaction that emitted them.
FollowUpHandler = Callable[[Work, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Setting:
    """One `config KEY VALUE` entry (errbot's configuration template, per capability)."""

    key: str
    usage: str  # what the value looks like, e.g. "N" or "here|#channel|off"
    describe: str  # one line for `config` and `help config`
    apply: Callable[[Work, CommandInvoked, str], Awaitable[None]]  # parses, checks, stores
    show: Callable[[Work], Awaitable[str]]  # the current value, as people read it


@dataclass
class Capability:
    name: str
    commands: list[Subcommand] = field(default_factory=list)
    # Buttons are routed by the part of their action id before ":" ("feedback:ack" -> feedback),
    # forms likewise by their form id; message actions (Slack shortcuts, Teams message-extension
    # commands) by their whole name.
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    message_actions: dict[str, MessageActionHandler] = field(default_factory=dict)
    forms: dict[str, FormHandler] = field(default_factory=dict)
    on_reaction: list[ReactionListener] = field(default_factory=list)
    on_message: list[MessageListener] = field(default_factory=list)
    on_home_opened: list[HomeListener] = field(default_factory=list)
    on_member_joined: list[JoinListener] = field(default_factory=list)
    follow_ups: list[tuple[type, FollowUpHandler]] = field(default_factory=list)
    jobs: dict[str, JobHandler] = field(default_factory=dict)
    settings: list[Setting] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)


class DeclarationError(ValueError):
    """Two capabilities declared the same name; raised at start-up, never at run time."""


def check(capabilities: Iterable[Capability]) -> None:
    """Refuses colliding declarations, naming both capabilities and the name."""
    owners: dict[tuple[str, str], str] = {}

    def claim(what: str, name: str, owner: str) -> None:
        previous = owners.get((what, name))
        if previous is not None:
            both = f"twice by {owner}" if previous == owner else f"by both {previous} and {owner}"
            raise DeclarationError(f"{what} {name!r} is declared {both}")
        owners[(what, name)] = owner

    for cap in capabilities:
        claim("capability", cap.name, cap.name)
        for sub in cap.commands:
            claim("command", sub.name, cap.name)
        for prefix in cap.actions:
            claim("action prefix", prefix, cap.name)
        for action in cap.message_actions:
            claim("message action", action, cap.name)
        for form in cap.forms:
            claim("form", form, cap.name)
        for kind in cap.jobs:
            claim("job kind", kind, cap.name)
        for setting in cap.settings:
            claim("setting", setting.key, cap.name)
        for permission in cap.permissions:
            claim("permission", permission.name, cap.name)
