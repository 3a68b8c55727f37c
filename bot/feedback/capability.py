"""Feedback, as declared to the kernel: the command and its verbs, the triage buttons and forms,
the message action, filing by reaction, its scheduled jobs and its settings.

The pieces, each depending only on those before it: `rules` (the status machine, no I/O),
`views` (loads what messages show), `jobs` (reminders and digests), `intake` (filing),
`triage` (statuses, owners, categories, notes, votes), `reading` (lists, history, export) and
`forms` (buttons and forms, handing over to intake and triage). The verb router lives here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.feedback import config as feedback_config
from bot.feedback.forms import Forms
from bot.feedback.intake import FILE_BY_REACTION, Intake, Submission
from bot.feedback.jobs import FeedbackJobs
from bot.feedback.messages import EXAMPLES, USAGE, label
from bot.feedback.permissions import TRIAGE_FEEDBACK
from bot.feedback.reading import Reading
from bot.feedback.rules import STATUS_WORDS, STATUSES, parse_number
from bot.feedback.triage import Triage
from bot.messages import Reply
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from bot.workspace import parse_channel

_DESCRIBE = {
    "feedback-channel": "Where new feedback is triaged (a card per item).",
    "leaders-channel": "Where the weekly feedback digest goes.",
    "feedback-categories": "The categories people file feedback under.",
    "feedback-reaction": "A reaction that files a message as its author's feedback.",
    "feedback-aging": "Working days before an untouched item is a reminder.",
}
_USAGE = {
    "feedback-channel": "here|#channel|off",
    "leaders-channel": "here|#channel|off",
    "feedback-categories": "NAME ...",
    "feedback-reaction": "EMOJI|off",
    "feedback-aging": "DAYS",
}


@dataclass(frozen=True)
class Feedback:
    """The capability's pieces, and the `feedback` command's verb router."""

    intake: Intake
    triage: Triage
    reading: Reading
    forms: Forms
    jobs: FeedbackJobs

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        first, _, after = rest.partition(" ")
        match verb:
            case "list":
                return await self.reading.list(event, rest)
            case "show":
                return await self.reading.show(event, parse_number(first))
            case "vote":
                return await self.triage.vote(event, parse_number(first))
            case "status":
                return await self._status_command(event, rest)
            case "ack" | "acknowledge":
                return await self.triage.set_status(
                    event, parse_number(first), "acknowledged", after
                )
            case "decline":
                return await self.triage.set_status(event, parse_number(first), "declined", after)
            case "duplicate":
                original, _, note = after.strip().partition(" ")
                return await self.triage.set_status(
                    event, parse_number(first), "duplicate", note, original=original
                )
            case "assign":
                return await self.triage.assign(event, parse_number(first), after)
            case "category":
                return await self.triage.set_category(event, parse_number(first), after)
            case "note":
                return await self.triage.add_note(event, parse_number(first), after)
            case "export":
                return await self.reading.export(event, rest)
            case "anonymous" | "anon":
                return await self._submit(event, rest, anonymous=True)
            case "new" | "send":
                return await self._submit(event, rest, anonymous=False)
            case _:
                return await self._submit(event, args, anonymous=False)

    async def _submit(self, event: CommandInvoked, text: str, *, anonymous: bool) -> Reply:
        return await self.intake.submit(
            event,
            Submission(
                text=text,
                anonymous=anonymous,
                category=None,
                source="command",
                source_key=f"cmd:{event.event_id}",
                link=None,
            ),
        )

    async def _status_command(self, event: CommandInvoked, rest: str) -> Reply:
        words = rest.split(maxsplit=2)
        if len(words) < 2:
            raise UsageError(
                "Name the item and its new status, e.g. feedback status FB-42 planned “in the Q3 "
                f"plan”. Statuses: {', '.join(label(s) for s in STATUSES[1:])}."
            )
        number = parse_number(words[0])
        word, note = words[1].lower(), words[2] if len(words) > 2 else ""
        if word == "in" and note.lower().startswith("progress"):
            word, note = "in_progress", note[len("progress") :]
        status = STATUS_WORDS.get(word)
        if status is None:
            raise UsageError(
                f"“{words[1]}” is not a feedback status; expected one of "
                f"{', '.join(label(s) for s in STATUSES[1:])}."
            )
        original = None
        if status == "duplicate":
            original, _, note = note.strip().partition(" ")
        return await self.triage.set_status(event, number, status, note, original=original)


def build(services: Services, roles: Roles) -> tuple[Capability, Feedback]:
    jobs = FeedbackJobs(services, roles)
    intake = Intake(services, jobs)
    triage = Triage(services, roles)
    reading = Reading(services, roles)
    forms = Forms(services, roles, intake, triage)
    feedback = Feedback(intake, triage, reading, forms, jobs)
    capability = Capability(
        name="feedback",
        commands=[
            Subcommand(
                "feedback",
                USAGE,
                "Send feedback to the community team, vote for others', and follow it; "
                "curators triage it (`feedback list`, `feedback status FB-42 ...`).",
                EXAMPLES,
                feedback.command,
            )
        ],
        actions={"feedback": forms.on_action},
        message_actions={"send_as_feedback": forms.on_message_action},
        forms={"feedback": forms.on_form},
        on_reaction=[intake.on_reaction],
        jobs={**jobs.handlers, FILE_BY_REACTION: intake.file_by_reaction},
        settings=[_setting(key) for key in feedback_config.KEYS],
        permissions=[TRIAGE_FEEDBACK],
    )
    return capability, feedback


def _setting(key: str) -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        await feedback_config.apply(
            work.session, work.ws_id, key, value, lambda v: parse_channel(v, event), work.now
        )

    async def show(work: Work) -> str:
        config = await feedback_config.load(work.session, work.ws_id)
        return feedback_config.show(config, key)

    return Setting(key, _USAGE[key], _DESCRIBE[key], apply, show)
