"""Asking allies, and everything that must happen later, as durable jobs with keys:

- `routing.route`: a question's first decision (and, when nobody was on duty, the decision at
  the time the first person comes on duty); key `routing:route:<question>:<wait>`;
- `routing.escalate`: nobody claimed within the channel's escalate-after working minutes: the
  next allies, and after the last level the community managers;
  key `routing:escalate:<question>:<level>:<wait>`;
- `routing.remind`: a claimed question still unresolved after M working hours of the claimer;
- `routing.check`: one working day on, the asker is asked whether they got an answer;
- `routing.snoozed`: a snoozed ally is asked again.

A claim cancels the pending escalation (its key is known from the question's level and waits),
a snooze reschedules it. Each job re-reads the question and acts only if it is still in the
state the job was queued for, and every message it sends has a key, so a job runs to effect at
most once even across restarts; the scheduler makes it run at least once.

Presence is read from the platform before the deciding unit of work (never inside a
transaction); the decision itself is `ranking.rank` on the state read in that unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from pydantic import BaseModel

from bot import calendar, metrics
from bot.ids import ConversationRef, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, ToConversation, ToUser
from bot.outage import DatabaseUnavailable
from bot.ports import Presence
from bot.roles import CONFIGURE
from bot.routing import availability
from bot.routing import messages as say
from bot.routing.classify import TopicInfo
from bot.routing.context import Context, qid
from bot.routing.permissions import RESOLVE_ANY
from bot.routing.ranking import Candidate, choose, first_on_duty, rank, reason
from bot.work import Work
from store import jobs as job_store
from store import routing as store
from store import workspaces as ws_store
from store.models import RoutingQuestion

log = logging.getLogger(__name__)

ROUTE = "routing.route"
ESCALATE = "routing.escalate"
REMIND = "routing.remind"
CHECK = "routing.check"
SNOOZED = "routing.snoozed"
# Levels of topic allies (the first ask, then one escalation) before the community managers.
MANAGER_LEVEL = 2
RECHECK = timedelta(minutes=15)


class JobArgs(BaseModel):
    workspace: WorkspaceRef
    question_id: int
    level: int = 0
    wait: int = 0
    member_id: int = 0


def route_key(q: RoutingQuestion) -> str:
    return f"routing:route:{q.id}:{q.waits}"


def escalate_key(q: RoutingQuestion) -> str:
    return f"routing:escalate:{q.id}:{q.level}:{q.waits}"


def ask_key(q: RoutingQuestion, member_id: int) -> str:
    return f"routing:{q.id}:ask:{member_id}"


def thread_key(q: RoutingQuestion) -> str:
    return f"routing:{q.id}:thread"


class Engine:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.s
        self.handlers = {
            ROUTE: self._route_job,
            ESCALATE: self._escalate_job,
            REMIND: self._remind_job,
            CHECK: self._check_job,
            SNOOZED: self._snoozed_job,
        }

    # ----- where the asker hears back -------------------------------------------------------

    async def to_asker(self, work: Work, q: RoutingQuestion, key: str, message: Message) -> None:
        """In the question's thread (channel questions), else by DM."""
        if q.channel_id and q.message_id:
            conv = ConversationRef(work.workspace, q.channel_id)
            target: ToConversation | ToUser = ToConversation(
                conversation=conv, thread_id=q.message_id
            )
        else:
            target = ToUser(user=await self._ref(work, q.asker_id))
        await work.send(key, Outbound(target=target, message=message, key=key))

    async def dm(self, work: Work, member_id: int, key: str, message: Message) -> None:
        target = ToUser(user=await self._ref(work, member_id))
        await work.send(key, Outbound(target=target, message=message, key=key))

    async def _ref(self, work: Work, member_id: int) -> UserRef:
        member = await ws_store.get_member_by_id(work.session, member_id)
        assert member is not None
        return UserRef(work.workspace, member.external_id)

    async def name(self, work: Work, member_id: int | None) -> str:
        if member_id is None:
            return "nobody"
        member = await ws_store.get_member_by_id(work.session, member_id)
        return (member.display_name or member.external_id) if member else "someone"

    # ----- scheduling -------------------------------------------------------------------------

    async def queue_first_route(self, work: Work, q: RoutingQuestion) -> None:
        args = JobArgs(workspace=work.workspace, question_id=q.id, wait=q.waits)
        await work.enqueue(ROUTE, route_key(q), args.model_dump_json(), platform=_platform(work))
        asker = await ws_store.get_member_by_id(work.session, q.asker_id)
        tz = calendar.zone(asker.tz if asker else None, self.s.settings.default_timezone)
        due = calendar.add_working_days(work.now.astimezone(tz), 1)
        await work.enqueue(CHECK, f"routing:check:{q.id}", args.model_dump_json(), due)

    async def cancel_pending(self, work: Work, q: RoutingQuestion) -> None:
        """The question no longer needs asking (claimed, resolved): no escalation, no waiting
        decision."""
        for key in (escalate_key(q), route_key(q)):
            await self.s.scheduler.cancel(work.session, work.ws_id, key)

    async def push_escalation(self, work: Work, q: RoutingQuestion, until: datetime) -> None:
        """A snooze: the pending escalation waits at least until `until`."""
        job = await job_store.get_job(work.session, work.ws_id, escalate_key(q))
        if job is not None and job.status == "pending" and job.due_at < until:
            await self.s.scheduler.reschedule(work.session, work.ws_id, escalate_key(q), until)

    async def on_duty_hours(self, work: Work, q: RoutingQuestion) -> list[calendar.WorkingHours]:
        """The working hours the question's clocks run on: its topic's allies', else (the
        general pool) the community managers'."""
        people = await self.ctx.candidates(work, q.topic_id, managers=False) if q.topic_id else []
        if not people:
            people = await self.ctx.managers(work)
        return availability.distinct(c.availability.hours for c in people)

    async def working_minutes(self, work: Work, q: RoutingQuestion, end: datetime) -> float:
        hours = await self.on_duty_hours(work, q)
        if not hours:
            return (end - q.created_at) / timedelta(minutes=1)
        return availability.minutes_between(hours, q.created_at, end)

    # ----- the decision -----------------------------------------------------------------------

    async def _presence(
        self, workspace: WorkspaceRef, question_id: int
    ) -> dict[UserRef, Presence | None]:
        """Before the deciding unit of work: the presence of everyone who could be asked now."""

        async def on_duty(work: Work) -> list[UserRef]:
            q = await store.question(work.session, question_id)
            if q is None or q.status in ("claimed", "resolved"):
                return []
            people = [
                *(
                    await self.ctx.candidates(work, q.topic_id, managers=False)
                    if q.topic_id
                    else []
                ),
                *await self.ctx.managers(work),
            ]
            return [c.ref for c in people if c.availability.on_duty(work.now)]

        refs = await self.s.run_in(workspace, on_duty)
        return await self.ctx.presence.read(refs)

    async def decide(
        self,
        work: Work,
        q: RoutingQuestion,
        level: int,
        presence: dict[UserRef, Presence | None],
        *,
        want: int | None = None,
    ) -> tuple[int, list[Candidate], list[Candidate]]:
        """(level reached, who to ask, everyone who could be asked at that level). Topic allies
        while `level` is below the managers' level and one is available, else the community
        managers; the asker and those already asked are never chosen."""
        topic = await self.ctx.topic_by_id(work, q.topic_id)
        channel = await self.ctx.channel_of(work, q)
        config = await self.ctx.config(work)
        never_asked = q.status in ("routing", "waiting") and q.level == 0
        asked = set() if never_asked else await store.asked_ids(work.session, q.id)
        exclude = asked | {q.asker_id}
        allies = await self.ctx.candidates(work, topic.id, managers=False) if topic else []
        if level < MANAGER_LEVEL and allies:
            ranked = rank(allies, work.now, presence, config.away_words)
            chosen = choose(ranked, want or channel.ask, exclude)
            if chosen:
                return level, chosen, allies
        managers = await self.ctx.managers(work)  # read only when they are needed
        ranked = rank(managers, work.now, presence, config.away_words)
        chosen = choose(ranked, want or len(managers), exclude)
        return MANAGER_LEVEL, chosen, [*allies, *managers]

    async def ask(
        self,
        work: Work,
        q: RoutingQuestion,
        chosen: Sequence[Candidate],
        level: int,
        topic: TopicInfo | None,
    ) -> None:
        """DMs each chosen ally the question card and records the ask."""
        asker = await self.name(work, q.asker_id)
        for c in chosen:
            added = await store.add_ask(
                work.session,
                workspace_id=work.ws_id,
                question_id=q.id,
                member_id=c.member_id,
                level=level,
                now=work.now,
            )
            if not added:
                continue
            why = reason(c, topic.name if topic else None, True)
            await self.dm(
                work,
                c.member_id,
                ask_key(q, c.member_id),
                say.ask_card(work.workspace, q, asker, topic.name if topic else None, why),
            )
        names = ", ".join(c.name for c in chosen)
        await store.add_change(
            work.session, q.id, "asked", work.now, note=f"level {level}: {names}"
        )

    async def schedule_escalation(self, work: Work, q: RoutingQuestion) -> None:
        if q.level >= MANAGER_LEVEL:
            return  # the last level: reminders and the day check still follow
        channel = await self.ctx.channel_of(work, q)
        hours = await self.on_duty_hours(work, q)
        due = availability.add_minutes(hours, work.now, channel.escalate_after)
        args = JobArgs(workspace=work.workspace, question_id=q.id, level=q.level, wait=q.waits)
        await work.enqueue(
            ESCALATE, escalate_key(q), args.model_dump_json(), due, platform=_platform(work)
        )

    async def wait_for_duty(
        self, work: Work, q: RoutingQuestion, everyone: Sequence[Candidate], topic: TopicInfo | None
    ) -> bool:
        """Nobody available: the decision is taken again when the first person comes on duty,
        and the asker is told when. False when there is nobody to wait for."""
        asked = {a.member_id for a, _ in await store.asks(work.session, q.id)}
        found = first_on_duty(everyone, work.now, asked | {q.asker_id})
        if found is None:
            return False
        person, when = found
        # On duty but not available (at their cap, in Do Not Disturb): look again a bit later.
        when = max(when, work.now + RECHECK)
        q.waits += 1
        q.status = "waiting" if q.status in ("routing", "waiting") else q.status
        q.updated_at = work.now
        args = JobArgs(workspace=work.workspace, question_id=q.id, level=q.level, wait=q.waits)
        kind = ROUTE if q.status == "waiting" else ESCALATE
        key = route_key(q) if kind == ROUTE else escalate_key(q)
        await work.enqueue(kind, key, args.model_dump_json(), when, platform=_platform(work))
        asker = await ws_store.get_member_by_id(work.session, q.asker_id)
        tz = calendar.zone(asker.tz if asker else None, self.s.settings.default_timezone)
        await store.add_change(
            work.session,
            q.id,
            "waiting",
            work.now,
            note=f"until {when.isoformat()} ({person.name})",
        )
        await self.to_asker(
            work,
            q,
            f"routing:{q.id}:wait:{q.waits}",
            say.plain(
                f"⏳ {qid(q.number)}: nobody who can help with "
                f"{topic.name if topic else 'this'} is on duty right now. {person.name} is next, "
                f"at {say.at(when, tz)}; I'll ask then. Expect to wait until about then."
            ),
        )
        metrics.question(work, "waiting")
        return True

    async def alert(self, work: Work, q: RoutingQuestion, why: str, tag: str) -> None:
        """Never silently dropped: the community managers (else the admins) hear about it."""
        people = await self.ctx.roles.members_who_can(work, RESOLVE_ANY)
        if not people:
            people = await self.ctx.roles.members_who_can(work, CONFIGURE)
        text = (
            f"⚠️ {qid(q.number)} could not be routed: {why}. Please pick it up "
            f"(question claim {qid(q.number)}) or add experts for its topic."
        )
        for member in people:
            await self.dm(
                work,
                member.id,
                f"routing:{q.id}:alert:{tag}:{member.id}:{q.level}:{q.waits}",
                say.plain(text),
            )
        if not people:
            log.error("question %s in %s: %s, and nobody to tell", q.id, work.workspace, why)
        await store.add_change(work.session, q.id, "unrouted", work.now, note=why)
        metrics.question(work, "unrouted")

    # ----- jobs -------------------------------------------------------------------------------

    async def _route_job(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        try:
            presence = await self._presence(args.workspace, args.question_id)
            await self.s.run_in(args.workspace, partial(self._first, args, presence))
        except DatabaseUnavailable:
            raise  # nobody can be told now; the scheduler runs the job again when it is back
        except Exception as exc:
            # Tell someone now (once per attempt's wait), then let the scheduler try again.
            log.exception("routing question %s failed", args.question_id)
            await self.s.run_in(args.workspace, partial(self._failed, args, repr(exc)[:200]))
            raise

    async def _failed(self, args: JobArgs, why: str, work: Work) -> None:
        q = await store.question(work.session, args.question_id)
        if q is not None and not await work.was_queued(f"routing:{q.id}:alert-failed"):
            await work.send(
                f"routing:{q.id}:alert-failed",
                Outbound(
                    target=ToUser(user=await self._ref(work, q.asker_id)),
                    message=say.plain(
                        f"I had trouble routing {qid(q.number)}; the community team has been told."
                    ),
                ),
            )
            await self.alert(work, q, f"an error while routing ({why})", "failed")

    async def _first(
        self, args: JobArgs, presence: dict[UserRef, Presence | None], work: Work
    ) -> None:
        q = await store.question(work.session, args.question_id)
        if q is None or q.status not in ("routing", "waiting") or q.waits != args.wait:
            return  # decided already (a re-run), or claimed or resolved meanwhile
        topic = await self.ctx.topic_by_id(work, q.topic_id)
        level, chosen, everyone = await self.decide(work, q, 0, presence)
        if not chosen:
            if not await self.wait_for_duty(work, q, everyone, topic):
                await self.alert(
                    work,
                    q,
                    "nobody knows about its topic and there is no community manager",
                    "nobody",
                )
                await self.to_asker(
                    work,
                    q,
                    f"routing:{q.id}:nobody",
                    say.plain(
                        f"I couldn't find anyone to ask about {qid(q.number)} yet; I've told "
                        "the community team."
                    ),
                )
            return
        await self.ask(work, q, chosen, level, topic)
        metrics.question(work, "routed")
        first = q.status == "routing"
        q.status, q.level, q.updated_at = "open", level, work.now
        match = q.match or "no topic matched"
        if level >= MANAGER_LEVEL and topic is not None:
            channel = await self.ctx.channel_of(work, q)
            match += (
                "; nobody who knows about it is available now, so I asked the community team: "
                f"expect an answer within about {channel.escalate_after} working minutes"
            )
        message = say.thread_reply(
            q, topic.name if topic else None, match, [(c.ref, c.name) for c in chosen]
        )
        key = thread_key(q) if first else f"{thread_key(q)}:{q.waits}"
        await self.to_asker(work, q, key, message)
        await self.schedule_escalation(work, q)

    async def _escalate_job(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        presence = await self._presence(args.workspace, args.question_id)
        await self.s.run_in(args.workspace, partial(self._escalate, args, presence))

    async def _escalate(
        self, args: JobArgs, presence: dict[UserRef, Presence | None], work: Work
    ) -> None:
        q = await store.question(work.session, args.question_id)
        if q is None or q.status != "open" or q.level != args.level or q.waits != args.wait:
            return  # claimed, resolved, or escalated already
        topic = await self.ctx.topic_by_id(work, q.topic_id)
        level, chosen, everyone = await self.decide(work, q, q.level + 1, presence)
        if not chosen:
            if not await self.wait_for_duty(work, q, everyone, topic):
                await self.alert(work, q, "nobody claimed it and nobody else can be asked", "last")
            return
        await self.ask(work, q, chosen, level, topic)
        q.level, q.updated_at = level, work.now
        await store.add_change(work.session, q.id, "escalated", work.now, note=f"level {level}")
        metrics.question(work, "escalated")
        names = ", ".join(c.name for c in chosen)
        if level >= MANAGER_LEVEL:
            channel = await self.ctx.channel_of(work, q)
            text = (
                f"⏫ Nobody has picked up {qid(q.number)} yet, so I've asked the community team "
                f"({names}). Expect an answer within about {channel.escalate_after} working "
                "minutes."
            )
        else:
            text = f"⏫ Nobody has picked up {qid(q.number)} yet, so I've also asked {names}."
        await self.to_asker(work, q, f"routing:{q.id}:escalated:{level}", say.plain(text))
        await self.schedule_escalation(work, q)

    async def _remind_job(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)

        async def remind(work: Work) -> None:
            q = await store.question(work.session, args.question_id)
            if q is None or q.status != "claimed" or q.claimed_by != args.member_id:
                return
            await self.dm(
                work,
                args.member_id,
                f"routing:{q.id}:remind:{args.member_id}",
                say.plain(
                    f"⏰ {qid(q.number)} is still open. Once the asker has their answer they can "
                    f"press Resolved; if you can't help after all, type question pass "
                    f"{qid(q.number)} and I'll ask someone else."
                ),
            )
            await store.add_change(work.session, q.id, "reminded", work.now)

        await self.s.run_in(args.workspace, remind)

    async def schedule_reminder(self, work: Work, q: RoutingQuestion, claimer_id: int) -> None:
        member = await ws_store.get_member_by_id(work.session, claimer_id)
        av = await self.ctx.availability_of(work, claimer_id, member.tz if member else None)
        hours = (await self.ctx.config(work)).reminder_hours
        due = av.hours.add_working_minutes(work.now, hours * 60)
        args = JobArgs(workspace=work.workspace, question_id=q.id, member_id=claimer_id)
        await work.enqueue(
            REMIND, f"routing:remind:{q.id}:{claimer_id}", args.model_dump_json(), due
        )

    async def _check_job(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)

        async def check(work: Work) -> None:
            q = await store.question(work.session, args.question_id)
            if q is None or q.status == "resolved":
                return
            await self.dm(
                work, q.asker_id, f"routing:{q.id}:check", say.day_check(work.workspace, q)
            )
            await store.add_change(work.session, q.id, "checked", work.now)
            metrics.question(work, "unanswered")  # still unresolved a working day on

        await self.s.run_in(args.workspace, check)

    async def _snoozed_job(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)

        async def again(work: Work) -> None:
            q = await store.question(work.session, args.question_id)
            if q is None or q.status != "open":
                return
            await self.dm(
                work,
                args.member_id,
                f"routing:{q.id}:snoozed:{args.member_id}:{args.wait}",
                say.plain(
                    f"⏰ {qid(q.number)} still needs someone: question claim {qid(q.number)} "
                    f"to take it, or question pass {qid(q.number)}."
                ),
            )

        await self.s.run_in(args.workspace, again)


def _platform(work: Work) -> str:
    # Decisions read the platform's presence: a replica running that platform's port takes them.
    return work.workspace.platform.value
