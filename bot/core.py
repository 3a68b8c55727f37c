"""The core's entrance: every inbound event comes through `Allybot.handle`, which routes it to
what the capabilities declared (bot/capability.py). It imports no capability; the bootstrap
(bot/bootstrap.py) builds them and hands their declarations here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from bot import inbox, logcontext, metrics
from bot.capability import (
    ActionHandler,
    Capability,
    FormHandler,
    MessageActionHandler,
)
from bot.commands import Commands
from bot.errors import FieldError, UserError
from bot.events import (
    ActionPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessageActionInvoked,
    MessagePosted,
    ReactionChanged,
)
from bot.ids import UserRef
from bot.messages import Message, Outbound, Reply, Target, rich
from bot.outage import DatabaseUnavailable, OutageLog
from bot.ports import ChatPort
from bot.scheduler import Scheduler
from bot.services import Services
from bot.work import AlreadyDone, Work

log = logging.getLogger(__name__)

Listener = Callable[[Work, Any], Awaitable[None]]


class Allybot:
    def __init__(
        self, services: Services, capabilities: Sequence[Capability], *, use_inbox: bool = True
    ) -> None:
        self.services = services
        # SQLite has one writer at a time: more workers would only queue for it.
        workers = 1 if services.db.is_sqlite else 4
        self.inbox = (
            inbox.Inbox(services.db, services.clock, self.apply, workers=workers)
            if use_inbox
            else None
        )
        self.outage = OutageLog(log, "door")
        self.capabilities = list(capabilities)
        self.commands = Commands()
        self.actions: dict[str, ActionHandler] = {}
        self.message_actions: dict[str, MessageActionHandler] = {}
        self.forms: dict[str, FormHandler] = {}
        self._listeners: dict[type, list[tuple[str, Listener]]] = {}
        for cap in capabilities:
            for sub in cap.commands:
                self.commands.add(sub)
            self.actions.update(cap.actions)
            self.message_actions.update(cap.message_actions)
            self.forms.update(cap.forms)
            for event_type, listeners in (
                (ReactionChanged, cap.on_reaction),
                (MessagePosted, cap.on_message),
                (HomeOpened, cap.on_home_opened),
                (MemberJoined, cap.on_member_joined),
            ):
                for listener in listeners:
                    named = (f"{cap.name}.{getattr(listener, '__name__', 'listener')}", listener)
                    self._listeners.setdefault(event_type, []).append(named)

    @property
    def ports(self) -> dict[str, ChatPort]:
        return self.services.ports  # type: ignore[return-value]

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    def add_port(self, port: ChatPort) -> None:
        self.ports[port.platform] = port
        self.scheduler.serve_platforms(self.ports)  # its jobs can run here from now on
        self.scheduler.wake()

    async def handle(self, event: Event) -> Reply | None:
        """Takes an event from an adapter; returns the private answer to show its actor, if any.

        Either way, the event is committed before this returns, so the caller may acknowledge
        the platform as soon as it has the result. Events that need no answer (reactions, home
        and join events, channel chatter someone listens to) go to the inbox and are applied
        right after, exactly once; the others are applied now, their DMs and posts committed as
        delivery jobs with their effect.
        """
        metrics.saw(event)
        logcontext.bind(event_id=event.event_id, workspace=event.workspace)
        if self.inbox is not None and self._deferrable(event):
            if not self._listeners.get(type(event)) and not isinstance(event, MemberJoined):
                metrics.door_outcome("ignored")
                return None  # nobody would act on it: nothing to keep
            apply: Callable[[Event], Awaitable[Reply | None]] = self._accept
        else:
            apply = self.apply
        try:
            reply = await apply(event)
        except DatabaseUnavailable as exc:
            # The adapter answers "try again" (a 503, or a line for the person): one WARNING
            # per outage here, not a traceback per request.
            self.outage.down(exc)
            raise
        self.outage.up()
        return reply

    async def _accept(self, event: Event) -> None:
        assert self.inbox is not None
        await self.inbox.accept(event)

    def _deferrable(self, event: Event) -> bool:
        if isinstance(event, MessagePosted):
            return not event.addressed_to_bot
        return type(event).__name__ in inbox.KINDS

    async def run_due(self) -> int:
        """Applies the inbox's waiting events, then runs the jobs that are due (tests, the
        console; `allybot serve` runs both continuously)."""
        applied = await self.inbox.run_due() if self.inbox is not None else 0
        return applied + await self.scheduler.run_due()

    async def apply(self, event: Event) -> Reply | None:
        """Applies the event now (the inbox's workers call this)."""
        try:
            match event:
                case CommandInvoked():
                    prefix = self.services.capabilities(event.workspace.platform).command_prefix
                    return await self.commands.dispatch(event, prefix)
                case MessagePosted(addressed_to_bot=True):
                    return await self._typed_command(event)
                case ReactionChanged():
                    author = [event.message_author] if event.message_author else []
                    await self._fan_out(event, author)
                    return None
                case FormSubmitted():
                    return await self._route(self.forms, event.form_id.partition(":")[0], event)
                case MessageActionInvoked():
                    return await self._route(self.message_actions, event.action, event)
                case ActionPressed():
                    return await self._route(self.actions, event.action_id.partition(":")[0], event)
                case HomeOpened() | MemberJoined() | MessagePosted():
                    await self._fan_out(event, [])
                    return None
            log.info("ignored unknown event type %s", type(event).__name__)
            return None
        except UserError as exc:
            # A rejected form keeps its dialog open with the problem next to its field ("": the
            # form as a whole).
            errors: dict[str, str] = {}
            if isinstance(event, FormSubmitted):
                errors[exc.field if isinstance(exc, FieldError) else ""] = str(exc)
            return Reply(message=Message(text=exc.text or rich(str(exc))), form_errors=errors)

    async def _route(
        self, table: Mapping[str, Callable[[Any], Awaitable[Reply | None]]], name: str, event: Event
    ) -> Reply | None:
        handler = table.get(name)
        if handler is None:
            log.info("ignored unknown %s %r", type(event).__name__, name)
            return None
        return await handler(event)

    async def _fan_out(self, event: Event, people: list[UserRef]) -> None:
        """Every subscribed listener sees the event, in one unit of work, each isolated from
        the others' failures; the actor is resolved once for all of them."""
        listeners = self._listeners.get(type(event), [])
        if not listeners and not isinstance(event, MemberJoined):
            return  # e.g. channel chatter nobody subscribes to: no transaction at all
        uow = self.services.uow

        async def apply(work: Work) -> None:
            if isinstance(event, MemberJoined | HomeOpened):
                await work.person(event.actor, event.actor_profile)  # know them from now on
            for name, listener in listeners:
                await uow.isolated(work, name, partial(listener, work, event))

        try:
            await self.services.run(event, apply, people=people)
        except AlreadyDone:
            return  # a concurrent delivery of the same event applied it

    async def deliver_reply(self, event: Event, reply: Reply, target: Target) -> None:
        """Queues a reply for delivery, for adapters that cannot answer inside the request
        (a Slack mention or DM is answered through the Web API, not in the HTTP response)."""

        async def send(work: Work) -> None:
            await work.send(
                f"event:{event.event_id}:reply", Outbound(target=target, message=reply.message)
            )

        await self.services.uow.run(event.workspace, send)

    async def _typed_command(self, event: MessagePosted) -> Reply | None:
        text = event.text.strip()
        if not text:
            return None
        command = CommandInvoked(
            event_id=event.event_id,
            actor=event.actor,
            occurred_at=event.occurred_at,
            actor_profile=event.actor_profile,
            profiles=event.profiles,
            raw=event.raw,
            conversation=event.message.conversation,
            thread_id=event.message.thread_id,
            name="",
            text=text,
        )
        return await self.handle(command)
