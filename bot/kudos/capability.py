"""Kudos, as declared to the kernel: the command, the message action, the reaction listener
and the settings admins change with `config`."""

from __future__ import annotations

from bot.args import whole_number
from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.kudos.review import REVIEW_KUDOS
from bot.kudos.service import EXAMPLES, USAGE, KudosService
from bot.services import Services
from bot.work import Work
from bot.workspace import parse_channel
from store import workspaces as ws_store


def build(services: Services) -> tuple[Capability, KudosService]:
    kudos = KudosService(services)
    capability = Capability(
        name="kudos",
        commands=[
            Subcommand(
                "kudos",
                USAGE,
                "Thank people; `kudos stats [@person]` shows kudos given and received; "
                "`kudos review` (community managers) shows pairs thanking each other far "
                "above the norm.",
                EXAMPLES,
                kudos.command,
            )
        ],
        message_actions={"give_kudos": kudos.on_message_action},
        on_reaction=[kudos.on_reaction],
        settings=_settings(services, kudos),
        permissions=[REVIEW_KUDOS],
    )
    return capability, kudos


def _settings(services: Services, kudos: KudosService) -> list[Setting]:
    async def set_allowance(work: Work, event: CommandInvoked, value: str) -> None:
        allowance = whole_number(
            value, 1, 1000, what="The daily allowance", usage="Example: config allowance 5"
        )
        await ws_store.set_kudos_allowance(work.session, work.ws_id, allowance, work.now)

    async def show_allowance(work: Work) -> str:
        row = await work.settings()
        allowance = row.kudos_daily_allowance if row and row.kudos_daily_allowance else None
        return f"Daily kudos allowance: {allowance or services.settings.kudos_daily_allowance}"

    async def set_channel(work: Work, event: CommandInvoked, value: str) -> None:
        channel = parse_channel(value, event)
        await ws_store.set_kudos_channel(work.session, work.ws_id, channel, work.now)

    async def show_channel(work: Work) -> str:
        row = await work.settings()
        return f"Kudos channel: {row.kudos_channel if row and row.kudos_channel else 'off'}"

    async def set_reactions(work: Work, event: CommandInvoked, value: str) -> None:
        names = [n for n in (v.strip(":, ") for v in value.split()) if n]
        if not names:
            raise UsageError("Name at least one reaction, e.g. config kudos-reactions clap")
        await ws_store.set_kudos_reactions(work.session, work.ws_id, names)

    async def show_reactions(work: Work) -> str:
        return f"Kudos reactions: {', '.join(await kudos.reactions(work))}"

    return [
        Setting(
            "allowance",
            "N",
            "How many kudos each person can give a day (in their own time zone).",
            set_allowance,
            show_allowance,
        ),
        Setting(
            "kudos-channel",
            "here|#channel|off",
            "Where every kudos is announced.",
            set_channel,
            show_channel,
        ),
        Setting(
            "kudos-reactions",
            "EMOJI ...",
            "The reactions that give kudos.",
            set_reactions,
            show_reactions,
        ),
    ]
