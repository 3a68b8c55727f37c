"""The question commands (`ask`, `question ...`, `questions`), the buttons that mirror them,
and reading a question's history with its clocks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.args import whole_number
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import ActionPressed, CommandInvoked, Event
from bot.ids import ConversationKind, ConversationRef, UserRef
from bot.messages import Card, Message, Reply, Section, rich
from bot.routing import messages as say
from bot.routing.availability import parse_duration
from bot.routing.context import MAX_ID, Context, parse_qid, qid
from bot.routing.questions import MAX_TEXT, Questions
from bot.text import MENTION
from bot.work import AlreadyDone, Work
from store import routing as store
from store import workspaces as ws_store
from store.models import RoutingQuestion

QUESTION_USAGE = (
    "claim|pass|show Q-12 | snooze Q-12 [1h] | resolve Q-12 [@helper] | answer Q-12 TEXT"
)
QUESTION_EXAMPLES = ("question claim Q-12", "question resolve Q-12 @ana")
ASK_EXAMPLES = ("ask how do I reset my VPN token?",)
LISTS = {
    "open": ("routing", "waiting", "open", "claimed"),
    "unclaimed": ("routing", "waiting", "open"),
    "mine": ("routing", "waiting", "open", "claimed", "resolved"),
    "resolved": ("resolved",),
    "all": ("routing", "waiting", "open", "claimed", "resolved"),
}
STATUS_LABELS = {
    "routing": "being routed",
    "waiting": "waiting for someone on duty",
    "open": "asked, unclaimed",
    "claimed": "claimed",
    "resolved": "resolved",
}

Act = Callable[[Work, RoutingQuestion, Person], Awaitable[str]]


class QuestionCommands:
    def __init__(self, ctx: Context, questions: Questions) -> None:
        self.ctx = ctx
        self.s = ctx.s
        self.q = questions

    # ----- ask ----------------------------------------------------------------------------

    async def ask(self, event: CommandInvoked, args: str) -> Reply:
        text = args.strip()
        if not text:
            raise UsageError(
                "Say what you want to know, e.g. ask how do I reset my VPN token? I'll find "
                "people who know and bring the answer back to you by DM."
            )
        if len(text) > MAX_TEXT:
            raise UsageError(f"A question is at most {MAX_TEXT} characters; shorten it a little.")

        async def ask(work: Work) -> str:
            source = f"cmd:{event.event_id}"
            if not await work.claim(type(event).__name__):
                found = await store.question_by_source(work.session, work.ws_id, source)
                return f"Already asked as {qid(found.number)}." if found else "Already done."
            asker = await work.person(event.actor, event.actor_profile)
            q = await self.q.new(
                work, asker, text, source_key=source, channel=None, message_id=None, link=None
            )
            topic = await self.ctx.topic_by_id(work, q.topic_id)
            return (
                f"Got it: {qid(q.number)}. I'm asking {say.about(topic.name if topic else None)}; "
                "the answer comes back to you here by DM."
            )

        return _said(await self.s.run(event, ask))

    # ----- question VERB Q-n ------------------------------------------------------------------

    async def question(self, event: CommandInvoked, args: str) -> Reply:
        words = args.split(maxsplit=2)
        verb = words[0].lower() if words else ""
        if (
            verb not in ("claim", "take", "pass", "snooze", "resolve", "answer", "show")
            or len(words) < 2
        ):
            raise UsageError(f"Usage: question {QUESTION_USAGE}\nExample: {QUESTION_EXAMPLES[0]}")
        number = parse_qid(words[1])
        rest = words[2].strip() if len(words) > 2 else ""
        if verb == "show":
            return await self.show(event, number)
        if verb in ("claim", "take"):
            return await self._act(event, number, self._claim)
        if verb == "pass":
            return await self._act(event, number, self.q.pass_)
        if verb == "snooze":
            span = parse_duration(rest or "1h", "snooze duration")
            if span > timedelta(days=7):
                raise UsageError("Snooze for at most a week, e.g. question snooze Q-12 1h")

            async def snooze(work: Work, q: RoutingQuestion, person: Person) -> str:
                return await self.q.snooze(work, q, person, span)

            return await self._act(event, number, snooze)
        if verb == "answer":
            if not rest:
                raise UsageError(f"Write the answer: question answer {qid(number)} TEXT")

            async def answer(work: Work, q: RoutingQuestion, person: Person) -> str:
                return await self.q.answer(work, q, person, rest)

            return await self._act(event, number, answer)
        helper_ids = MENTION.findall(rest)
        if len(helper_ids) > 1 or (rest and not helper_ids):
            raise UsageError(f"Name at most one helper: question resolve {qid(number)} [@helper]")
        helper_ref = UserRef(event.workspace, helper_ids[0]) if helper_ids else None

        async def resolve(work: Work, q: RoutingQuestion, person: Person) -> str:
            helper = await work.person(helper_ref) if helper_ref else None
            return await self.q.resolve(work, q, person, helper)

        return await self._act(event, number, resolve, people=[helper_ref] if helper_ref else [])

    async def _claim(self, work: Work, q: RoutingQuestion, person: Person) -> str:
        return await self.q.claim(work, q, person, via="command")

    async def _act(
        self,
        event: Event,
        number: int | None,
        act: Act,
        *,
        question_id: int | None = None,
        people: list[UserRef] | None = None,
    ) -> Reply:
        async def run(work: Work) -> str:
            person = await work.person(event.actor, event.actor_profile)
            if question_id is not None:
                q = await store.question(work.session, question_id)
                if q is None or q.workspace_id != work.ws_id:
                    raise UserError("That question is gone.")
            else:
                assert number is not None
                found = await store.question_by_number(work.session, work.ws_id, number)
                if found is None:
                    raise UserError(f"There is no question {qid(number)}; see `questions`.")
                q = found
            return await act(work, q, person)

        try:
            return _said(await self.s.run(event, run, people=people or []))
        except AlreadyDone:
            return _said("Already done.")

    # ----- buttons ------------------------------------------------------------------------------

    async def on_action(self, event: ActionPressed) -> Reply | None:
        try:
            question_id = whole_number(event.value, 1, MAX_ID, what="A question's id")
        except UsageError:
            return _said("That button has expired; use the question command instead.")
        match event.action_id:
            case say.CLAIM:
                return await self._act(event, None, self._claim, question_id=question_id)
            case say.PASS:
                return await self._act(event, None, self.q.pass_, question_id=question_id)
            case say.SNOOZE:

                async def snooze(work: Work, q: RoutingQuestion, person: Person) -> str:
                    return await self.q.snooze(work, q, person, timedelta(hours=1))

                return await self._act(event, None, snooze, question_id=question_id)
            case say.RESOLVE:

                async def resolve(work: Work, q: RoutingQuestion, person: Person) -> str:
                    return await self.q.resolve(work, q, person, None)

                return await self._act(event, None, resolve, question_id=question_id)
            case say.NOT_YET:
                return await self._act(event, None, self.q.not_yet, question_id=question_id)
            case say.KUDOS:
                return await self._kudos(event, question_id)
        return None

    async def _kudos(self, event: ActionPressed, question_id: int) -> Reply:
        """The one-tap thanks: the kudos capability's own command, from the asker to the
        helper, so its rules (allowance, no self-kudos) apply as always."""

        async def helper(work: Work) -> tuple[str, int]:
            person = await work.person(event.actor, event.actor_profile)
            q = await store.question(work.session, question_id)
            if q is None or q.workspace_id != work.ws_id or q.helper_id is None:
                raise UserError("There is nobody to thank for that question.")
            if q.asker_id != person.member_id:
                raise UserError("Only the asker can thank for this one; use kudos @person instead.")
            member = await ws_store.get_member_by_id(work.session, q.helper_id)
            assert member is not None
            return member.external_id, q.number

        helper_id, number = await self.s.run_in(event.workspace, helper)
        command = CommandInvoked(
            event_id=event.event_id,
            actor=event.actor,
            occurred_at=event.occurred_at,
            actor_profile=event.actor_profile,
            conversation=event.conversation
            or ConversationRef(event.workspace, f"dm-{event.actor.id}", ConversationKind.DIRECT),
            name="kudos",
            text=f"<@{helper_id}> thanks for answering my question {qid(number)}",
        )
        return await self.ctx.kudos.command(command, command.text)

    # ----- reading ------------------------------------------------------------------------------

    async def questions(self, event: CommandInvoked, args: str) -> Reply:
        which = args.strip().lower() or "open"
        if which not in LISTS:
            raise UsageError(
                f"“{which}” is not a list; expected questions [open|mine|unclaimed|resolved|all]"
            )

        async def read(work: Work) -> str:
            person = await work.person(event.actor, event.actor_profile)
            rows = await store.list_questions(
                work.session,
                work.ws_id,
                statuses=LISTS[which],
                member_id=person.member_id if which == "mine" else None,
            )
            if not rows:
                return f"No {which} questions."
            lines = []
            for q in rows:
                topic = await self.ctx.topic_by_id(work, q.topic_id)
                who = f", {await self.ctx_name(work, q.claimed_by)}" if q.claimed_by else ""
                lines.append(
                    f"• {qid(q.number)} [{topic.name if topic else 'general'}] "
                    f"{STATUS_LABELS.get(q.status, q.status)}{who}: {say.excerpt(q.text, 80)}"
                )
            return f"{which.capitalize()} questions:\n" + "\n".join(lines)

        return _said(await self.s.run(event, read))

    async def ctx_name(self, work: Work, member_id: int | None) -> str:
        if member_id is None:
            return "nobody"
        member = await ws_store.get_member_by_id(work.session, member_id)
        return (member.display_name or member.external_id) if member else "someone"

    async def show(self, event: CommandInvoked, number: int) -> Reply:
        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            q = await store.question_by_number(work.session, work.ws_id, number)
            if q is None:
                raise UserError(f"There is no question {qid(number)}; see `questions`.")
            topic = await self.ctx.topic_by_id(work, q.topic_id)
            asker = await self.ctx_name(work, q.asker_id)
            tz = viewer.tz
            lines = [
                f"{qid(q.number)} [{topic.name if topic else 'general'}] "
                f"{STATUS_LABELS.get(q.status, q.status)}; asked by {asker}"
                f"{' in #' + q.channel_id if q.channel_id else ' by DM'} at "
                f"{q.created_at.astimezone(tz):%a %d %b %H:%M}",
                f"Why this topic: {q.match or 'no topic matched'}",
            ]
            asks = await store.asks(work.session, q.id)
            if asks:
                lines.append(
                    "Asked: "
                    + ", ".join(
                        f"{m.display_name or m.external_id} ({a.outcome}, "
                        f"{a.asked_at.astimezone(tz):%a %H:%M})"
                        for a, m in asks
                    )
                )
            if q.claimed_by:
                lines.append(f"Claimed by {await self.ctx_name(work, q.claimed_by)}")
            lines.append(
                "First response: " + _clock(q.first_response_working, q.first_response_wall)
            )
            lines.append("Time to resolution: " + _clock(q.resolution_working, q.resolution_wall))
            history = [
                f"{c.created_at.astimezone(tz):%a %d %b %H:%M} "
                f"{(m.display_name or m.external_id) if m else 'Allybot'}: {c.kind}"
                f"{' (' + c.note + ')' if c.note else ''}"
                for c, m in await store.changes(work.session, q.id)
            ]
            text = "\n".join(lines)
            return Reply(
                message=Message(
                    text=rich(text + "\nHistory:\n" + "\n".join(history)),
                    card=Card(
                        title=f"{qid(q.number)}",
                        sections=(
                            Section(text=rich("“", say.excerpt(q.text, 500), "”")),
                            Section(text=rich(text)),
                            Section(text=rich("History\n" + "\n".join(history))),
                        ),
                    ),
                )
            )

        return await self.s.run(event, read)


def _clock(working: float | None, wall: float | None) -> str:
    if working is None or wall is None:
        return "not yet"
    return f"{working:.0f} working minutes ({wall:.0f} wall minutes)"


def _said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))
