"""The kernel's own capability: workspace settings (`config`), roles and `whoami`.

`config` knows no capability: it lists and sets the settings every capability declared.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel

from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.ids import ConversationRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, Reply, ToConversation, ToUser, rich
from bot.ports import DeliveryError, Rejection
from bot.roles import CONFIGURE, EXAMPLES, MANAGE_ROLES, USAGE, Roles
from bot.scheduler import JobContext
from bot.services import Services
from bot.settings import Settings
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


# The job that tells of a platform refusing the bot (Admins.platform_rejected).
PLATFORM_ALERT = "admins.platform_alert"


class PlatformAlert(BaseModel):
    """One alert: a platform refused the bot in a workspace, for one reason, in one hour."""

    workspace: WorkspaceRef
    rejected: Rejection
    code: str
    reason: str
    hour: str  # the UTC hour it is for, 2026-11-18T10


def ops_channel(settings: Settings) -> ConversationRef | None:
    """OPS_CHANNEL (PLATFORM:WORKSPACE:CHANNEL, checked by Settings), or None."""
    if not settings.ops_channel:
        return None
    platform, workspace, channel = settings.ops_channel.split(":", 2)
    return ConversationRef(WorkspaceRef(Platform(platform), workspace), channel)


class Admins:
    """Tells a workspace's admins about something only they can fix (a backlog, a job that
    gave up, a platform refusing the bot), once per `key`: errbot's warn_admins, as durable
    DMs."""

    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles
        # Deliveries given up because the platform refused the bot: told once an hour by
        # platform_rejected, so job_gave_up (called right after, in this process) is silent.
        self._rejected_jobs: set[int] = set()

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
        if ctx.id in self._rejected_jobs:
            self._rejected_jobs.discard(ctx.id)
            return  # the platform refused the bot: platform_rejected told them, once an hour
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

    async def platform_rejected(
        self, ctx: JobContext, workspace: WorkspaceRef, error: DeliveryError
    ) -> None:
        """Delivery's hook when a platform refuses the bot itself (a revoked token, a missing
        scope): every send there fails alike, so the admins and the ops channel hear of it once
        per workspace, reason and hour, not once per message. The alert is a job under that
        key, so across replicas exactly one is queued per hour, and that one logs the ERROR."""
        if error.rejected is None:
            return
        self._rejected_jobs.add(ctx.id)
        code = error.code or str(error.rejected)
        hour = self.s.clock.now().strftime("%Y-%m-%dT%H")
        alert = PlatformAlert(
            workspace=workspace,
            rejected=error.rejected,
            code=code,
            reason=str(error)[:300],
            hour=hour,
        )

        async def queue(work: Work) -> bool:
            return await work.enqueue(
                PLATFORM_ALERT, f"platform-alert:{code}:{hour}", alert.model_dump_json()
            )

        if await self.s.run_in(workspace, queue):
            log.error(
                "%s refuses Allybot's sends in %s: %s. They fail and are not retried; the "
                "admins%s are told (again each hour while it lasts; each failed message is "
                "logged as a warning)",
                workspace.platform,
                workspace,
                alert.reason,
                " and the ops channel" if self.s.settings.ops_channel else "",
            )

    async def platform_alert(self, payload: str) -> None:
        """The PLATFORM_ALERT job: DMs the workspace's admins, and posts to OPS_CHANNEL (on
        another platform, it still reaches someone when this one refuses every send)."""
        alert = PlatformAlert.model_validate_json(payload)
        text = _alert_text(alert)
        await self.tell(alert.workspace, f"platform-rejected:{alert.code}:{alert.hour}", text)
        ops = ops_channel(self.s.settings)
        if ops is None:
            return

        async def post(work: Work) -> None:
            await work.send(
                f"ops:{alert.workspace}:{alert.code}:{alert.hour}",
                Outbound(target=ToConversation(conversation=ops), message=Message(text=rich(text))),
            )

        await self.s.run_in(ops.workspace, post)


def _alert_text(alert: PlatformAlert) -> str:
    platform = str(alert.workspace.platform).capitalize()
    where = f"{platform} workspace {alert.workspace.id}"
    if alert.rejected is Rejection.UNAUTHORIZED:
        what = (
            f"⚠️ {platform} refuses Allybot's credentials in {where}: {alert.reason}. Every "
            "message Allybot sends there fails and is not retried, until whoever runs Allybot "
            "puts in working credentials and restarts it."
        )
    else:
        what = (
            f"⚠️ {platform} refuses some of Allybot's messages in {where}: {alert.reason}. "
            "They fail and are not retried, until the app gets the permission it lacks "
            "(reinstall or re-consent it with the permissions in its manifest)."
        )
    return what + " (At most one notice an hour while this lasts.)"


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
