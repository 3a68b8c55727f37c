"""The ambassador program and community governance, as declared to the kernel: the commands
(`ambassador`, `ambassadors`, `office`, `offices`, `training`, `community`), the buttons and
forms (every button is also a command), the weekly coverage note and the training reminders,
and two settings.

The pieces, each depending only on those before it: `rules` (no I/O), `program` (permission,
settings, recipients), `messages`, `coverage`, `offices`, `training`, `roster`, `requests` and
`buttons`. The verb routers live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ambassadors import messages as say
from bot.ambassadors import rules
from bot.ambassadors.buttons import Buttons
from bot.ambassadors.coverage import WEEKLY, Coverage
from bot.ambassadors.offices import Offices
from bot.ambassadors.program import MANAGE, Program
from bot.ambassadors.requests import Requests
from bot.ambassadors.roster import Roster, _one_person
from bot.ambassadors.training import REMIND, Training
from bot.capability import Capability, Setting
from bot.commands import Handler, Subcommand
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.messages import Reply
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import ambassadors as amb_store


@dataclass(frozen=True)
class Ambassadors:
    roster: Roster
    offices: Offices
    coverage: Coverage
    training: Training
    requests: Requests
    buttons: Buttons

    async def ambassador(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        rest = rest.strip()
        match verb.lower():
            case "join":
                return await self.roster.join(event, rest)
            case "leave":
                return await self.roster.leave(event)
            case "confirm" | "in" | "i'm" | "im":
                return await self.roster.confirm(event)
            case "role" | "expectations" if not rest or verb.lower() == "role":
                return await self.roster.role(event)
            case "expectations":
                return await self.roster.expectations(event, rest)
            case "profile":
                return await self.roster.profile(event, rest)
            case "interests":
                return await self.roster.interests(event, rest)
            case "add":
                return await self.roster.add(event, rest)
            case "remove":
                return await self.roster.remove(event, rest)
            case "approve":
                ref, _ = _one_person(event, rest, "ambassador approve @bo")
                return await self.roster.decide(event, ref, True, None)
            case "decline":
                ref, reason = _one_person(event, rest, "ambassador decline @bo “reason”")
                text = rules.checked_text(reason, "reason", rules.MAX_WHY)
                return await self.roster.decide(event, ref, False, text)
            case _:
                raise UsageError(
                    f"Usage: ambassador {say.USAGE['ambassador']}\n"
                    f"Example: {say.EXAMPLES['ambassador'][0]}"
                )

    async def ambassadors(self, event: CommandInvoked, args: str) -> Reply:
        return await self.roster.listing(event, args)

    async def community(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        rest = rest.strip()
        first, _, after = rest.partition(" ")
        match verb.lower():
            case "request" | "new":
                return await self.requests.request(event, rest)
            case "requests" | "list":
                return await self.requests.listing(event, rest)
            case "show":
                return await self.requests.show(event, rules.request_number(first))
            case "approve":
                return await self.requests.approve(event, rules.request_number(first))
            case "decline":
                return await self.requests.decline(event, rules.request_number(first), after)
            case "changes":
                return await self.requests.changes(event, rules.request_number(first), after)
            case _:
                raise UsageError(
                    f"Usage: community {say.USAGE['community']}\n"
                    f"Example: {say.EXAMPLES['community'][0]}"
                )

    async def offices_list(self, event: CommandInvoked, args: str) -> Reply:
        return await self.offices.list(event)


def build(
    services: Services, roles: Roles, recognition: Recognition
) -> tuple[Capability, Ambassadors]:
    program = Program(services, roles)
    coverage = Coverage(services, program)
    offices = Offices(services, program, coverage)
    training = Training(services, program, recognition)
    roster = Roster(services, program, coverage, training)
    requests = Requests(services, program, training)
    buttons = Buttons(roster, training, requests)
    amb = Ambassadors(roster, offices, coverage, training, requests, buttons)

    def sub(name: str, summary: str, handler: Handler) -> Subcommand:
        return Subcommand(name, say.USAGE[name], summary, say.EXAMPLES[name], handler)

    capability = Capability(
        name="ambassadors",
        commands=[
            sub(
                "ambassador",
                "Join the ambassador program, see the role, your profile and interests; "
                "community managers approve, add and remove ambassadors.",
                amb.ambassador,
            ),
            sub(
                "ambassadors",
                "Ambassadors by office or topic (names only), and coverage per office and team.",
                amb.ambassadors,
            ),
            sub(
                "office",
                "Offices (community managers), and the office you work from.",
                offices.command,
            ),
            sub("offices", "Every office, with its people and ambassadors.", amb.offices_list),
            sub(
                "training",
                "Your training checklist (training done N); community managers edit the "
                "checklists and see who is stuck.",
                training.command,
            ),
            sub(
                "community",
                "Request a new community channel; community managers approve, decline or ask "
                "for changes.",
                amb.community,
            ),
        ],
        actions={
            "ambassador": buttons.ambassador,
            "training": buttons.training_done,
            "community": buttons.community,
        },
        forms={"ambassador": buttons.ambassador_form, "community": buttons.community_form},
        jobs={WEEKLY: coverage.weekly, REMIND: training.remind},
        settings=[
            _number_setting(
                "ambassador-target",
                "Ambassadors each office should have (coverage flags offices below it).",
                "target_per_office",
                rules.DEFAULT_TARGET,
                100,
                "Ambassadors per office",
            ),
            _number_setting(
                "training-reminder",
                "Days without training progress before a gentle reminder.",
                "reminder_days",
                rules.DEFAULT_REMINDER_DAYS,
                90,
                "Training reminder after (days)",
            ),
        ],
        permissions=[MANAGE],
    )
    return capability, amb


def _number_setting(
    key: str, describe: str, column: str, default: int, high: int, label: str
) -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        number = rules.whole_number(value, key, 1, high, f"config {key} {default}")
        row = await amb_store.settings_row(work.session, work.ws_id, work.now)
        setattr(row, column, number)
        row.updated_at = work.now

    async def show(work: Work) -> str:
        row = await amb_store.settings(work.session, work.ws_id)
        value = getattr(row, column) if row is not None else None
        return f"{label}: {value or default}"

    return Setting(key, "N", describe, apply, show)
