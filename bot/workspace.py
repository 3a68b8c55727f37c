"""The kernel's own capability: workspace settings (`config`), roles and `whoami`.

`config` knows no capability: it lists and sets the settings every capability declared.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.ids import Platform, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, Reply, ToUser, rich
from bot.roles import CONFIGURE, EXAMPLES, MANAGE_ROLES, USAGE, Roles
from bot.scheduler import JobContext
from bot.services import Services
from bot.text import CHANNEL
from bot.work import Work
from store import workspaces as ws_store

log = logging.getLogger(__name__)


def parse_channel(value: str, event: CommandInvoked) -> str | None:
    """`here`, a picked #channel, a bare channel id, or `off`/`none` (None)."""
    if value.lower() == "here":
        return event.conversation.id
    if value.lower() in ("off", "none"):
        return None
    match = CHANNEL.fullmatch(value)
    if match:
        return match.group(1)
    if value and " " not in value and not value.startswith("#"):
        return value
    raise UsageError(
        f"“{value}” is not a channel I can use; say `here` in the channel, pick it with #, "
        "or `off` to stop announcing."
    )


class Config:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles
        self.settings: list[Setting] = []  # every capability's, filled in by the bootstrap

    def usage(self) -> str:
        return "[" + " | ".join(f"{s.key} {s.usage}" for s in self.settings) + "]"

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        key, _, value = args.strip().partition(" ")
        key, value = key.lower(), value.strip()
        by_key = {s.key: s for s in self.settings}
        if key and key not in by_key:
            raise UsageError(f"Unknown setting “{key}”.\nUsage: config {self.usage()}")

        async def configure(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            await self.roles.require(actor, CONFIGURE, work.session)
            if key:
                await by_key[key].apply(work, event, value)
                work.settings_changed()
            shown = [await s.show(work) for s in self.settings]
            return ("Saved. " if key else "") + " ".join(f"{line}." for line in shown)

        return Reply(message=Message(text=rich(await self.s.run(event, configure))))


class Admins:
    """Tells a workspace's admins about something only they can fix (a backlog, a job that
    gave up), once per `key`: errbot's warn_admins, as durable DMs."""

    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    async def tell(self, workspace: WorkspaceRef, key: str, text: str) -> int:
        """DMs every admin; returns how many were told (0: nobody to tell, logged)."""

        async def tell(work: Work) -> int:
            admins = await self.roles.members_who_can(work, CONFIGURE)
            for member in admins:
                await work.send(
                    f"admins:{key}:{member.id}",
                    Outbound(
                        target=ToUser(user=UserRef(workspace, member.external_id)),
                        message=Message(text=rich(text)),
                    ),
                )
            return len(admins)

        told = await self.s.run_in(workspace, tell)
        if not told:
            log.error("no admin to tell in %s: %s", workspace, text)
        return told

    async def inbox_backlog(self, workspace: str, waiting: int, age: timedelta) -> None:
        platform, _, external = workspace.partition(":")
        try:
            ref = WorkspaceRef(Platform(platform), external)
        except ValueError:
            return
        hour = self.s.clock.now().strftime("%Y-%m-%dT%H")
        minutes = int(age.total_seconds() // 60)
        await self.tell(
            ref,
            f"inbox-backlog:{hour}",
            f"⚠️ Allybot is behind: {waiting} events are waiting to be applied, the oldest for "
            f"{minutes} minutes. Kudos and reactions will count, but late. Check that the "
            "server's workers are running (allybot status).",
        )

    async def job_gave_up(self, ctx: JobContext, reason: str) -> None:
        """The scheduler's give-up hook: a job that cannot succeed is an admin's to know."""
        if ctx.key.startswith("deliver:admins:"):
            return  # a notice to admins that failed: logged by the scheduler, never re-told
        async with self.s.db.transaction() as session:
            row = await ws_store.get_workspace(session, ctx.workspace_id)
        if row is None:
            return
        workspace = WorkspaceRef(Platform(row.platform), row.external_id)
        await self.tell(
            workspace,
            f"gave-up:{ctx.id}",
            f"⚠️ Allybot gave up on a {ctx.kind} job ({ctx.key}) after {ctx.attempt} "
            f"attempts: {reason[:300]}",
        )


def timezone_setting(services: Services) -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"“{value}” is not a time zone; expected an IANA name like Europe/Paris. "
                "Leaderboard weeks and months follow it."
            ) from None
        await ws_store.set_timezone(work.session, work.ws_id, value, work.now)

    async def show(work: Work) -> str:
        return f"Time zone: {(await work.timezone()).key}"

    return Setting(
        key="timezone",
        usage="ZONE",
        describe="The workspace's time zone (leaderboard weeks and months, digests).",
        apply=apply,
        show=show,
    )


CONFIG_EXAMPLES = (
    "config allowance 3",
    "config kudos-channel here",
    "config timezone Europe/Paris",
)


def build(services: Services, roles: Roles) -> tuple[Capability, Config]:
    """The workspace capability, and its `config` (whose usage the bootstrap completes once
    every capability has declared its settings)."""
    config = Config(services, roles)

    async def whoami(event: CommandInvoked, args: str) -> Reply:
        async def who(work: Work) -> Reply:
            person = await work.person(event.actor, event.actor_profile)
            held = sorted(r.label for r in await roles.of(person, work.session)) or ["member"]
            return Reply(
                message=Message(
                    text=rich(
                        f"You are {person.name}: id {event.actor.id} "
                        f"({event.actor}), roles: {', '.join(held)}."
                    )
                )
            )

        return await services.run(event, who)

    capability = Capability(
        name="workspace",
        commands=[
            Subcommand(
                "role",
                USAGE,
                "Give or take away a role (admins only); `roles` lists who has which.",
                EXAMPLES,
                roles.command,
            ),
            Subcommand(
                "roles",
                "",
                "Who are the admins, community managers and curators.",
                ("roles",),
                roles.command,
            ),
            Subcommand(
                "whoami", "", "Your id on this platform (for ALLYBOT_ADMINS).", ("whoami",), whoami
            ),
        ],
        settings=[timezone_setting(services)],
        permissions=[CONFIGURE, MANAGE_ROLES],
    )
    return capability, config
