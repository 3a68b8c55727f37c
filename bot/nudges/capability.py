"""Nudges, as declared to the kernel: the `nudges`, `content` and `ask-ambassadors` commands,
the buttons on every nudge and on the approval card, the decline form, the jobs (each nudge's
send, a campaign's fan-out, the recurring scans) and the settings.

The pieces, each depending only on those before it: `guardrails` (the pure decision),
`sources` (reads of other capabilities), `links`, `messages`, `campaigns` (the engine),
`targets`, `optin`, `content`, `requests`, `report` and `scans`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.args import whole_number
from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import ActionPressed, CommandInvoked, FormSubmitted
from bot.messages import Reply
from bot.nudges import guardrails
from bot.nudges import messages as say
from bot.nudges.campaigns import Campaigns
from bot.nudges.content import Content
from bot.nudges.optin import OptIn
from bot.nudges.permissions import MANAGE_NUDGES
from bot.nudges.report import Report
from bot.nudges.requests import Requests
from bot.nudges.scans import DEFAULT_CHECKIN_WEEKS, Scans
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import nudges as store


@dataclass(frozen=True)
class Nudges:
    campaigns: Campaigns
    optin: OptIn
    content: Content
    requests: Requests
    report: Report
    scans: Scans

    async def nudges_command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        if verb in ("", "show", "me"):
            return await self.optin.show(event)
        if verb == "status":
            return await self.report.status(event, rest)
        return await self.optin.command(event, verb, rest)

    async def content_command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        match verb.lower():
            case "add":
                return await self.content.add(event, rest)
            case "shared" | "share":
                return await self.content.answer(event, rest, store.SHARED)
            case "skip" | "pass":
                return await self.content.answer(event, rest, store.SKIPPED)
            case "report":
                return await self.report.content(event, rest)
            case "export":
                return await self.report.export(event)
            case "list" | "":
                return await self.content.list(event)
        raise UsageError(f"I don't know “content {verb}”.\nUsage: content {say.CONTENT_USAGE}")

    async def on_action(self, event: ActionPressed) -> Reply | None:
        match event.action_id:
            case "nudge:snooze":
                return await self.optin.on_snooze(event)
            case "nudge:stop":
                return await self.optin.on_stop(event)
            case "nudge:home":
                return await self.optin.from_home(event)
            case "nudge:on" | "nudge:off":
                return await self.optin.command(event, event.action_id.partition(":")[2], "")
            case "nudge:shared":
                return await self.content.on_button(event, store.SHARED)
            case "nudge:skip":
                return await self.content.on_button(event, store.SKIPPED)
            case "nudge:approve":
                return await self.requests.on_approve(event)
            case "nudge:decline":
                return await self.requests.on_decline(event)
        return None

    async def on_form(self, event: FormSubmitted) -> Reply | None:
        if event.form_id == "nudge:decline":
            return await self.requests.on_form(event)
        if event.form_id == "nudge:content":
            return await self.content.on_form(event)
        return None


def build(services: Services, roles: Roles) -> tuple[Capability, Nudges]:
    campaigns = Campaigns(services)
    scans = Scans(services, campaigns)
    optin = OptIn(services, campaigns)
    optin.ensure_recurring = scans.ensure_recurring
    content = Content(services, roles, campaigns, optin)
    nudges = Nudges(
        campaigns,
        optin,
        content,
        Requests(services, roles, campaigns),
        Report(services, roles),
        scans,
    )
    capability = Capability(
        name="nudges",
        commands=[
            Subcommand(
                "nudges",
                say.NUDGES_USAGE,
                "Timely DMs that make the next good action one tap away, only if you opt in: "
                "at most a few a week, in your working hours, with Snooze and Stop on each.",
                say.NUDGES_EXAMPLES,
                nudges.nudges_command,
            ),
            Subcommand(
                "content",
                say.CONTENT_USAGE,
                "Content for ambassadors to share (community managers add it), and its reach.",
                say.CONTENT_EXAMPLES,
                nudges.content_command,
            ),
            Subcommand(
                "ask-ambassadors",
                say.ASK_USAGE,
                "Ask the ambassadors for something on your team's behalf; a community manager "
                "approves it first.",
                say.ASK_EXAMPLES,
                nudges.requests.command,
            ),
        ],
        actions={"nudge": nudges.on_action},
        forms={"nudge": nudges.on_form},
        jobs={**campaigns.handlers, **scans.handlers},
        settings=[_cap_setting(), _checkin_setting()],
        permissions=[MANAGE_NUDGES],
    )
    return capability, nudges


def _cap_setting() -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        cap = whole_number(value, 1, guardrails.MAX_CAP, what="The weekly nudge cap")
        row = await store.settings_row(work.session, work.ws_id, work.now)
        row.cap = cap

    async def show(work: Work) -> str:
        row = await store.settings(work.session, work.ws_id)
        cap = row.cap if row and row.cap else guardrails.DEFAULT_CAP
        return f"{cap} nudges per person per week"

    return Setting(
        "nudges-cap",
        "N",
        "The most nudges anyone gets in a week (people may lower theirs).",
        apply,
        show,
    )


def _checkin_setting() -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        weeks = whole_number(value, 1, 52, what="The weeks of inactivity before a check-in")
        row = await store.settings_row(work.session, work.ws_id, work.now)
        row.checkin_weeks = weeks

    async def show(work: Work) -> str:
        row = await store.settings(work.session, work.ws_id)
        weeks = row.checkin_weeks if row and row.checkin_weeks else DEFAULT_CHECKIN_WEEKS
        return f"after {weeks} weeks of inactivity"

    return Setting(
        "nudges-checkin-weeks", "N", "Weeks without activity before a warm check-in.", apply, show
    )
