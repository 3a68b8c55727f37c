"""Workspace configuration by admins: `config ...`."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.feedback import config as feedback_config
from bot.messages import Message, Reply, rich
from bot.roles import Permission, Roles
from bot.services import Services
from bot.text import CHANNEL
from store import workspaces as ws_store

USAGE = (
    "[allowance N | kudos-channel here|#channel|off | kudos-reactions EMOJI ... | "
    "recognition-channel here|#channel|off | timezone ZONE | "
    f"{feedback_config.USAGE}]"
)
EXAMPLES = ("config allowance 3", "config kudos-channel here", "config kudos-reactions clap tada")


class AdminService:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    async def config(self, event: CommandInvoked, args: str) -> Reply:
        actor = await self.s.directory.person(event.actor, event.actor_profile)
        await self.roles.require(actor, Permission.CONFIGURE)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        key, _, value = args.strip().partition(" ")
        key, value = key.lower(), value.strip()
        async with self.s.db.transaction() as session:
            if key == "":
                pass
            elif key == "allowance":
                if not value.isdigit() or not 1 <= int(value) <= 1000:
                    raise UsageError(
                        f"“{value}” is not a valid allowance; expected a whole number from 1 to "
                        "1000, e.g. config allowance 5"
                    )
                await ws_store.set_kudos_allowance(session, ws_id, int(value), now)
            elif key == "kudos-channel":
                await ws_store.set_kudos_channel(session, ws_id, _channel(value, event), now)
            elif key == "recognition-channel":
                await ws_store.set_recognition_channel(session, ws_id, _channel(value, event), now)
            elif key == "timezone":
                try:
                    ZoneInfo(value)
                except (ZoneInfoNotFoundError, ValueError):
                    raise UsageError(
                        f"“{value}” is not a time zone; expected an IANA name like Europe/Paris. "
                        "Leaderboard weeks and months follow it."
                    ) from None
                await ws_store.set_timezone(session, ws_id, value, now)
            elif key == "kudos-reactions":
                names = [v.strip(":, ") for v in value.split()]
                names = [n for n in names if n]
                if not names:
                    raise UsageError("Name at least one reaction, e.g. config kudos-reactions clap")
                await ws_store.set_kudos_reactions(session, ws_id, names)
            elif key in feedback_config.KEYS:
                await feedback_config.apply(
                    session, ws_id, key, value, lambda v: _channel(v, event), now
                )
            else:
                raise UsageError(f"Unknown setting “{key}”.\nUsage: config {USAGE}")
            settings = await ws_store.get_settings(session, ws_id)
            reactions = await ws_store.get_kudos_reactions(session, ws_id)
            feedback = await feedback_config.load(session, ws_id)
        allowance = (
            settings.kudos_daily_allowance
            if settings and settings.kudos_daily_allowance
            else self.s.settings.kudos_daily_allowance
        )
        channel = settings.kudos_channel if settings and settings.kudos_channel else "off"
        recognition = (
            settings.recognition_channel if settings and settings.recognition_channel else "off"
        )
        zone = (
            settings.timezone
            if settings and settings.timezone
            else (self.s.settings.default_timezone)
        )
        if not reactions:
            reactions = (
                self.s.settings.teams_kudos_reactions
                if event.workspace.platform == "teams"
                else self.s.settings.kudos_reactions
            )
        return Reply(
            message=Message(
                text=rich(
                    ("Saved. " if key else "")
                    + f"Daily kudos allowance: {allowance}. Kudos channel: {channel}. "
                    f"Kudos reactions: {', '.join(reactions)}. "
                    f"Recognition channel: {recognition}. Time zone: {zone}. "
                    + feedback_config.describe(feedback)
                )
            )
        )


def _channel(value: str, event: CommandInvoked) -> str | None:
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
