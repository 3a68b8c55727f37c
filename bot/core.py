"""The core's entrance: every inbound event comes through `Allybot.handle`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from bot import admin, roles
from bot.clock import Clock, SystemClock
from bot.commands import Commands, Subcommand
from bot.delivery import Delivery
from bot.directory import Directory
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
from bot.feedback import service as feedback_service
from bot.kudos import service as kudos
from bot.messages import Message, Outbound, Reply, Target, rich
from bot.ports import ChatPort
from bot.recognition import badges, home, leaderboard, profile
from bot.recognition import service as recognition
from bot.scheduler import Scheduler
from bot.services import Services
from bot.settings import Settings
from store import Database

log = logging.getLogger(__name__)


class Allybot:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        ports: Mapping[str, ChatPort],
        clock: Clock | None = None,
    ) -> None:
        clock = clock or SystemClock()
        self.ports: dict[str, ChatPort] = dict(ports)
        scheduler = Scheduler(db, clock)
        self.services = Services(
            settings=settings,
            db=db,
            clock=clock,
            ports=self.ports,
            directory=Directory(db, clock, self.ports, settings.default_timezone),
            scheduler=scheduler,
            delivery=Delivery(db, clock, scheduler, self.ports),
        )
        self.kudos = kudos.KudosService(self.services)
        self.roles = roles.Roles(self.services)
        self.admin = admin.AdminService(self.services, self.roles)
        self.recognition = recognition.Recognition(self.services)
        self.badges = badges.BadgeCommands(self.services, self.roles, self.recognition)
        self.leaderboards = leaderboard.Leaderboards(self.services, self.recognition)
        self.profiles = profile.Profiles(self.services, self.roles, self.recognition)
        self.home = home.Home(self.services, self.recognition, self.kudos, self.leaderboards)
        self.recognition.after_change.append(self.home.refresh)
        # Buttons are routed by the part of their action id before ":" ("feedback:ack" ->
        # "feedback"); message actions (Teams' "Give kudos", Slack shortcuts) by their name.
        self.actions: dict[str, Callable[[ActionPressed], Awaitable[Reply | None]]] = {}
        self.message_actions: dict[
            str, Callable[[MessageActionInvoked], Awaitable[Reply | None]]
        ] = {"give_kudos": self.kudos.on_message_action}
        self.commands = Commands()
        self.commands.add(
            Subcommand(
                "kudos",
                kudos.USAGE,
                "Thank people; `kudos stats [@person]` shows kudos given and received.",
                kudos.EXAMPLES,
                self.kudos.command,
            )
        )
        self.commands.add(
            Subcommand(
                "role",
                roles.USAGE,
                "Give or take away a role (admins only); `roles` lists who has which.",
                roles.EXAMPLES,
                self.roles.command,
            )
        )
        self.commands.add(
            Subcommand(
                "roles",
                "",
                "Who are the admins, community managers and curators.",
                ("roles",),
                self.roles.command,
            )
        )
        self.commands.add(
            Subcommand(
                "whoami",
                "",
                "Your id on this platform (for ALLYBOT_ADMINS).",
                ("whoami",),
                self._whoami,
            )
        )
        self.commands.add(
            Subcommand(
                "config",
                admin.USAGE,
                "Workspace settings (admins only).",
                admin.EXAMPLES,
                self.admin.config,
            )
        )
        self._add_recognition_commands()
        self._add_feedback_commands()

    def _add_recognition_commands(self) -> None:
        add = self.commands.add
        add(
            Subcommand(
                "badge",
                badges.USAGE,
                "Badges: award, revoke, create, rules (curators).",
                badges.EXAMPLES,
                self.badges.command,
            )
        )
        add(Subcommand("badges", "", "The badge catalogue.", ("badges",), self.badges.command))
        add(
            Subcommand(
                "leaderboard",
                leaderboard.USAGE,
                "Top 10 and your own rank; nobody is pinged.",
                leaderboard.EXAMPLES,
                self.leaderboards.command,
            )
        )
        add(
            Subcommand(
                "profile",
                "[@person]",
                "Badges with citations, kudos, top values and recent thanks.",
                ("profile", "profile @ana"),
                self.profiles.profile,
            )
        )
        add(
            Subcommand(
                "rewards",
                profile.REWARDS_USAGE,
                "What recognition means to you; community managers plan with it.",
                ("rewards add learning-budget", "rewards @ana"),
                self.profiles.rewards,
            )
        )
        add(
            Subcommand(
                "privacy",
                "[leaderboard on|off] [announce on|off]",
                "Show or hide yourself on leaderboards and in badge announcements.",
                ("privacy leaderboard off",),
                self.profiles.privacy,
            )
        )
        add(
            Subcommand(
                "team",
                "[@person] [NAME|none]",
                "Your team, for team leaderboards.",
                ("team Support",),
                self.profiles.team,
            )
        )
        add(
            Subcommand(
                "home",
                "",
                "Your kudos, badges, rank and allowance at a glance.",
                ("home",),
                self.home.command,
            )
        )
        self.actions["home"] = self.home.on_action

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    def add_port(self, port: ChatPort) -> None:
        self.ports[port.platform] = port

    async def handle(self, event: Event) -> Reply | None:
        """Applies the event; returns the private answer to show its actor, if any.

        Everything else (DMs, posts) is committed as delivery jobs before this returns, so the
        caller may acknowledge the platform as soon as it has the result.
        """
        try:
            match event:
                case CommandInvoked():
                    prefix = self.services.capabilities(event.workspace.platform).command_prefix
                    return await self.commands.dispatch(event, prefix)
                case MessagePosted(addressed_to_bot=True):
                    return await self._typed_command(event)
                case ReactionChanged():
                    await self.kudos.on_reaction(event)
                    await self.feedback.on_reaction(event)
                    return None
                case FormSubmitted():
                    on_form = self.forms.get(event.form_id.partition(":")[0])
                    if on_form is None:
                        log.info("ignored unknown form %r", event.form_id)
                        return None
                    return await on_form(event)
                case MessageActionInvoked():
                    on_message = self.message_actions.get(event.action)
                    if on_message is None:
                        log.info("ignored unknown message action %r", event.action)
                        return None
                    return await on_message(event)
                case ActionPressed():
                    on_action = self.actions.get(event.action_id.partition(":")[0])
                    if on_action is None:
                        log.info("ignored unknown action %r", event.action_id)
                        return None
                    return await on_action(event)
                case HomeOpened():
                    await self.home.on_opened(event)
                    return None
                case MemberJoined():
                    await self.services.directory.person(event.actor, event.actor_profile)
                    return None
                case MessagePosted():
                    return None  # channel chatter; routing of questions will read it
            log.info("ignored unknown event type %s", type(event).__name__)
            return None
        except UserError as exc:
            # A rejected form keeps its dialog open with the problem next to its field ("": the
            # form as a whole).
            errors: dict[str, str] = {}
            if isinstance(event, FormSubmitted):
                errors[exc.field if isinstance(exc, FieldError) else ""] = str(exc)
            return Reply(message=Message(text=rich(str(exc))), form_errors=errors)

    async def _whoami(self, event: CommandInvoked, args: str) -> Reply:
        person = await self.services.directory.person(event.actor, event.actor_profile)
        held = sorted(r.label for r in await self.roles.of(person)) or ["member"]
        return Reply(
            message=Message(
                text=rich(
                    f"You are {person.name}: id {event.actor.id} "
                    f"({event.actor}), roles: {', '.join(held)}."
                )
            )
        )

    async def deliver_reply(self, event: Event, reply: Reply, target: Target) -> None:
        """Queues a reply for delivery, for adapters that cannot answer inside the request
        (a Slack mention or DM is answered through the Web API, not in the HTTP response)."""
        services = self.services
        ws_id = await services.directory.workspace_id(event.workspace)
        async with services.db.transaction() as session:
            await services.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"event:{event.event_id}:reply",
                Outbound(target=target, message=reply.message),
            )
        services.scheduler.wake()

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

    def _add_feedback_commands(self) -> None:
        self.feedback = feedback_service.FeedbackService(self.services, self.roles)
        # Forms are routed like buttons, by the part of their form id before ":".
        self.forms: dict[str, Callable[[FormSubmitted], Awaitable[Reply | None]]] = {
            "feedback": self.feedback.on_form
        }
        self.actions["feedback"] = self.feedback.on_action
        self.message_actions["send_as_feedback"] = self.feedback.on_message_action
        self.commands.add(
            Subcommand(
                "feedback",
                feedback_service.USAGE,
                "Send feedback to the community team, vote for others', and follow it; "
                "curators triage it (`feedback list`, `feedback status FB-42 ...`).",
                feedback_service.EXAMPLES,
                self.feedback.command,
            )
        )
