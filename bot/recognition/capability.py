"""Recognition, as declared to the kernel: badges, leaderboards, profiles, rewards, privacy,
teams and the home view, counting every kudos as it happens."""

from __future__ import annotations

from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.events import CommandInvoked
from bot.kudos.events import KudosChanged
from bot.kudos.service import KudosService
from bot.recognition import badges, home, leaderboard, permissions, profile
from bot.recognition.events import RecognitionChanged
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from bot.workspace import parse_channel
from store import workspaces as ws_store


def build(services: Services, roles: Roles, kudos: KudosService) -> tuple[Capability, Recognition]:
    recognition = Recognition(services)
    catalogue = badges.BadgeCommands(services, roles, recognition)
    boards = leaderboard.Leaderboards(services, recognition)
    profiles = profile.Profiles(services, roles, recognition)
    homes = home.Home(services, recognition, kudos, boards, profiles)
    capability = Capability(
        name="recognition",
        commands=[
            Subcommand(
                "badge",
                badges.USAGE,
                "Badges: award, revoke, create, rules (curators).",
                badges.EXAMPLES,
                catalogue.command,
            ),
            Subcommand("badges", "", "The badge catalogue.", ("badges",), catalogue.command),
            Subcommand(
                "leaderboard",
                leaderboard.USAGE,
                "Top 10 and your own rank; nobody is pinged.",
                leaderboard.EXAMPLES,
                boards.command,
            ),
            Subcommand(
                "profile",
                "[@person]",
                "Badges with citations, kudos, top values and recent thanks.",
                ("profile", "profile @ana"),
                profiles.profile,
            ),
            Subcommand(
                "rewards",
                profile.REWARDS_USAGE,
                "What recognition means to you; community managers plan with it.",
                ("rewards add learning-budget", "rewards @ana"),
                profiles.rewards,
            ),
            Subcommand(
                "privacy",
                "[leaderboard on|off] [announce on|off]",
                "Show or hide yourself on leaderboards and in badge announcements.",
                ("privacy leaderboard off",),
                profiles.privacy,
            ),
            Subcommand(
                "team",
                "[@person] [NAME|none]",
                "Your team, for team leaderboards.",
                ("team Support",),
                profiles.team,
            ),
            Subcommand(
                "home",
                "",
                "Your kudos, badges, rank and allowance at a glance.",
                ("home",),
                homes.command,
            ),
        ],
        actions={"home": homes.on_action},
        on_home_opened=[homes.on_opened],
        follow_ups=[(KudosChanged, recognition.on_kudos), (RecognitionChanged, homes.refresh)],
        jobs={home.KIND: homes.publish},
        settings=[_channel_setting()],
        permissions=list(permissions.ALL),
    )
    return capability, recognition


def _channel_setting() -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        channel = parse_channel(value, event)
        await ws_store.set_recognition_channel(work.session, work.ws_id, channel, work.now)

    async def show(work: Work) -> str:
        row = await work.settings()
        channel = row.recognition_channel if row and row.recognition_channel else "off"
        return f"Recognition channel: {channel}"

    return Setting(
        "recognition-channel",
        "here|#channel|off",
        "Where badge awards are announced (people can opt out).",
        apply,
        show,
    )
