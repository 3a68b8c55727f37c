"""Routing, as declared to the kernel: topics, experts, availability, who knows, help channels
and questions, their buttons and form, the channel-message and reaction listeners, the jobs
that escalate and remind, and the workspace settings.

The pieces, each depending only on those before it: `classify`, `availability`, `presence`
and `ranking` (pure rules), `context` (shared reads), `escalation` (asking, and the jobs),
`questions` (intake, claim, pass, snooze, answer, resolve), then the commands: `commands`,
`topics`, `channels`, `allies` and `whoknows`.
"""

from __future__ import annotations

from bot.capability import Capability, Setting
from bot.commands import Subcommand
from bot.errors import UsageError
from bot.events import ActionPressed, CommandInvoked
from bot.kudos.service import KudosService
from bot.messages import Reply
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.routing import allies, channels, permissions, topics
from bot.routing import messages as say
from bot.routing.commands import ASK_EXAMPLES, QUESTION_EXAMPLES, QUESTION_USAGE, QuestionCommands
from bot.routing.context import Context
from bot.routing.escalation import Engine
from bot.routing.presence import DEFAULT_AWAY_WORDS
from bot.routing.questions import Questions
from bot.routing.whoknows import WhoKnows
from bot.services import Services
from bot.work import Work
from store import routing as store


def build(
    services: Services, roles: Roles, kudos: KudosService, recognition: Recognition
) -> tuple[Capability, Context]:
    # Credit goes through recognition's own service, so its counters and badge rules apply.
    ctx = Context(services, roles, recognition, kudos)
    engine = Engine(ctx)
    questions = Questions(ctx, engine)
    asking = QuestionCommands(ctx, questions)
    taxonomy = topics.Topics(ctx)
    helpdesk = channels.Channels(ctx)
    people = allies.Allies(ctx)
    who = WhoKnows(ctx)

    async def on_action(event: ActionPressed) -> Reply | None:
        if event.action_id in (say.APPROVE, say.DECLINE):
            return await taxonomy.on_action(event)
        return await asking.on_action(event)

    capability = Capability(
        name="routing",
        commands=[
            Subcommand(
                "ask",
                "TEXT",
                "Ask the community: I find people who know and bring the answer back by DM.",
                ASK_EXAMPLES,
                asking.ask,
            ),
            Subcommand(
                "question",
                QUESTION_USAGE,
                "Take, pass on, snooze, answer or resolve a question; show its history.",
                QUESTION_EXAMPLES,
                asking.question,
            ),
            Subcommand(
                "questions",
                "[open|mine|unclaimed|resolved|all]",
                "Questions and who is on them.",
                ("questions unclaimed",),
                asking.questions,
            ),
            Subcommand(
                "whoknows",
                "TEXT",
                "People who know about something, with why and whether they're available.",
                ("whoknows vpn on linux",),
                who.command,
            ),
            Subcommand(
                "topic",
                topics.TOPIC_USAGE,
                "The topic taxonomy (curators).",
                topics.TOPIC_EXAMPLES,
                taxonomy.topic_command,
            ),
            Subcommand(
                "topics",
                "",
                "Topics with their experts and open questions.",
                ("topics",),
                taxonomy.list,
            ),
            Subcommand(
                "expert",
                topics.EXPERT_USAGE,
                "Expert tags: curators add and approve; anyone can nominate themselves.",
                topics.EXPERT_EXAMPLES,
                taxonomy.expert_command,
            ),
            Subcommand(
                "experts", "[TOPIC]", "Who the experts are.", ("experts vpn",), taxonomy.experts
            ),
            Subcommand(
                "help-channel",
                channels.USAGE,
                "Channels whose questions are routed (community managers).",
                channels.EXAMPLES,
                helpdesk.command,
            ),
            Subcommand(
                "help-channels", "", "The help channels.", ("help-channels",), helpdesk.list
            ),
            Subcommand(
                "availability",
                allies.USAGE,
                "When you can be asked: hours, days, time zone, cap, pause.",
                allies.EXAMPLES,
                people.command,
            ),
        ],
        actions={"routing": on_action},
        forms={"routing": taxonomy.on_form},
        on_message=[questions.on_message],
        on_reaction=[questions.on_reaction],
        jobs=dict(engine.handlers),
        settings=[_away_words(), _reminder_hours()],
        permissions=list(permissions.ALL),
    )
    return capability, ctx


def _away_words() -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        row = await store.settings_row(work.session, work.ws_id, work.now)
        if value.lower() in ("default", "reset"):
            row.away_words = None
        elif value.lower() in ("off", "none"):
            row.away_words = ""
        else:
            words = [w.strip().lower() for w in value.split(",") if w.strip()]
            if not words:
                raise UsageError(
                    "List the status words that mean away, comma-separated, e.g. config "
                    "away-words out of office, vacation, sick (or default, or off)."
                )
            row.away_words = ", ".join(words)
        row.updated_at = work.now
        work.changed("routing_config")

    async def show(work: Work) -> str:
        row = await store.settings(work.session, work.ws_id)
        words = (
            DEFAULT_AWAY_WORDS
            if row is None or row.away_words is None
            else row.away_words.split(", ")
        )
        return f"Away status words: {', '.join(w for w in words if w) or 'off'}"

    return Setting(
        "away-words",
        "WORD, WORD ...|default|off",
        "Status words that mean someone is away and must not be asked questions.",
        apply,
        show,
    )


def _reminder_hours() -> Setting:
    async def apply(work: Work, event: CommandInvoked, value: str) -> None:
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 40:
            raise UsageError(
                f"“{value}” is not a number of working hours; expected 1 to 40, e.g. config "
                "question-reminder 4"
            )
        row = await store.settings_row(work.session, work.ws_id, work.now)
        row.reminder_hours, row.updated_at = int(value), work.now
        work.changed("routing_config")

    async def show(work: Work) -> str:
        row = await store.settings(work.session, work.ws_id)
        hours = row.reminder_hours if row and row.reminder_hours else 4
        return f"Claimed-question reminder: after {hours} working hours"

    return Setting(
        "question-reminder",
        "HOURS",
        "Working hours before the claimer of an unresolved question is reminded.",
        apply,
        show,
    )
