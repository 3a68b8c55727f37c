"""Questions: taken in from help channels and `ask`, then claimed, passed, snoozed, answered
and resolved, by button, command or reaction (all three end in the same methods here).

Intake only records the question (with its Q-n, topic and why) and queues its first routing
decision as a job (escalation.py), so no platform call (presence) ever runs inside the channel
message's transaction."""

from __future__ import annotations

from datetime import timedelta

from bot import metrics
from bot.directory import Person
from bot.errors import UserError
from bot.events import MessagePosted, ReactionChanged
from bot.messages import Outbound, Private
from bot.routing import classify
from bot.routing import messages as say
from bot.routing.context import GENERAL, GROUP_WINDOW, Context, HelpChannel, qid
from bot.routing.escalation import MANAGER_LEVEL, SNOOZED, Engine, JobArgs, ask_key, thread_key
from bot.routing.permissions import RESOLVE_ANY
from bot.work import Work
from store import routing as store
from store import workspaces as ws_store
from store.models import RoutingAsk, RoutingQuestion

CLAIM_REACTION = "eyes"
RESOLVE_REACTION = "white_check_mark"
MAX_TEXT = 4000


class Questions:
    def __init__(self, ctx: Context, engine: Engine) -> None:
        self.ctx = ctx
        self.s = ctx.s
        self.engine = engine

    # ----- intake -----------------------------------------------------------------------------

    async def on_message(self, work: Work, event: MessagePosted) -> None:
        """A listener: top-level messages in help channels are questions; a reply in a
        question's thread is a response."""
        if event.addressed_to_bot:
            return
        message = event.message
        channel = (await self.ctx.help_channels(work)).get(message.conversation.id)
        if channel is None:
            return
        if message.thread_id and message.thread_id != message.id:
            await self._thread_reply(work, event)
            return
        text = event.text.strip()
        if not text or not await work.claim(type(event).__name__):
            return
        asker = await work.person(event.actor, event.actor_profile)
        if asker.is_bot:
            return
        recent = await store.recent_question(
            work.session, asker.member_id, message.conversation.id, work.now - GROUP_WINDOW
        )
        if recent is not None:  # the same person within minutes: one question
            recent.text = f"{recent.text}\n{text}"[:MAX_TEXT]
            recent.last_message_at = recent.updated_at = work.now
            await store.add_change(
                work.session, recent.id, "added", work.now, actor_id=asker.member_id
            )
            return
        await self.new(
            work,
            asker,
            text,
            source_key=message.key,
            channel=channel,
            message_id=message.id,
            link=message.link,
        )

    async def new(
        self,
        work: Work,
        asker: Person,
        text: str,
        *,
        source_key: str,
        channel: HelpChannel | None,
        message_id: str | None,
        link: str | None,
    ) -> RoutingQuestion:
        """Records a question, classified, and queues its routing."""
        session = work.session
        words = classify.words(text)
        topics = await self.ctx.topics(work)
        only = [t for t in topics if channel and t.name in channel.topics]
        learned = await store.evidence_by_topic(session, work.ws_id, words)
        match = classify.classify(words, topics, learned, only=only)
        if match.topic is None:
            general = next((t for t in topics if t.name == GENERAL), None)
            if general is not None:
                match = classify.Match(general, 0, ("no topic matched, so the general topic",))
        q = RoutingQuestion(
            workspace_id=work.ws_id,
            number=await store.next_number(session, work.ws_id, work.now),
            asker_id=asker.member_id,
            source_key=source_key,
            channel_id=channel.channel_id if channel else None,
            message_id=message_id,
            link=link,
            text=text[:MAX_TEXT],
            topic_id=match.topic.id if match.topic else None,
            match=match.explained,
            status="routing",
            level=0,
            waits=0,
            created_at=work.now,
            last_message_at=work.now,
            updated_at=work.now,
        )
        session.add(q)
        await session.flush()
        await store.add_change(
            session, q.id, "created", work.now, actor_id=asker.member_id, note=match.explained
        )
        await self.engine.queue_first_route(work, q)
        metrics.question(work, "created")
        return q

    async def _thread_reply(self, work: Work, event: MessagePosted) -> None:
        message = event.message
        assert message.thread_id is not None
        q = await store.question_by_message(
            work.session, work.ws_id, message.conversation.id, message.thread_id
        )
        if q is None or q.status == "resolved":
            return
        replier = await work.person(event.actor, event.actor_profile)
        if replier.is_bot or replier.member_id == q.asker_id:
            return
        if not await work.claim(type(event).__name__):
            return
        await self.responded(work, q, replier)
        if q.claimed_by is None and await self.is_ally(work, q, replier):
            await self.claim(work, q, replier, via="a reply in the thread")

    async def responded(self, work: Work, q: RoutingQuestion, person: Person) -> None:
        """Someone other than the asker answered: the first response's clocks, and who a
        resolution credits unless the resolver names someone."""
        if q.first_response_at is None:
            q.first_response_at = work.now
            q.first_response_wall = (work.now - q.created_at) / timedelta(minutes=1)
            q.first_response_working = await self.engine.working_minutes(work, q, work.now)
        if q.credit_id is None:
            q.credit_id = person.member_id
        q.updated_at = work.now
        await store.add_change(work.session, q.id, "answered", work.now, actor_id=person.member_id)

    async def is_ally(self, work: Work, q: RoutingQuestion, person: Person) -> bool:
        """Asked about it, an expert on its topic, or a community manager."""
        if any(a.member_id == person.member_id for a, _ in await store.asks(work.session, q.id)):
            return True
        if q.topic_id is not None:
            tag = await store.expert(work.session, q.topic_id, person.member_id)
            if tag is not None and tag.status == "active":
                return True
        return await self.ctx.roles.can(person, RESOLVE_ANY, work.session)

    async def on_reaction(self, work: Work, event: ReactionChanged) -> None:
        """👀 by an ally claims the question; ✅ by the asker resolves it."""
        if not event.added or event.reaction not in (CLAIM_REACTION, RESOLVE_REACTION):
            return
        conv = event.message.conversation
        if conv.id not in await self.ctx.help_channels(work):
            return
        q = await store.question_by_message(work.session, work.ws_id, conv.id, event.message.id)
        if q is None or q.status == "resolved" or not await work.claim(type(event).__name__):
            return
        person = await work.person(event.actor, event.actor_profile)
        try:
            if event.reaction == CLAIM_REACTION and person.member_id != q.asker_id:
                if await self.is_ally(work, q, person):
                    await self.claim(work, q, person, via="👀")
            elif event.reaction == RESOLVE_REACTION and person.member_id == q.asker_id:
                await self.resolve(work, q, person, None)
        except UserError as exc:  # e.g. claimed by someone else a moment ago
            await work.send(
                f"routing:{q.id}:reaction:{event.event_id}",
                Outbound(
                    target=Private(user=person.ref, conversation=conv), message=say.plain(str(exc))
                ),
            )

    # ----- claiming, passing, snoozing ----------------------------------------------------------

    async def claim(self, work: Work, q: RoutingQuestion, person: Person, *, via: str) -> str:
        if q.status == "resolved":
            raise UserError(f"{qid(q.number)} is already resolved.")
        if person.member_id == q.asker_id:
            raise UserError(f"You asked {qid(q.number)}; someone else needs to take it.")
        if not await store.claim(work.session, q.id, person.member_id, work.now):
            await work.session.refresh(q)
            if q.claimed_by == person.member_id:
                return f"You're already on {qid(q.number)}."
            who = await self.engine.name(work, q.claimed_by)
            raise UserError(f"{who} is already on {qid(q.number)}; thanks for offering!")
        await work.session.refresh(q)
        asks = await store.asks(work.session, q.id)
        asked = {a.member_id: a for a, _ in asks}
        if person.member_id not in asked:
            await store.add_ask(
                work.session,
                workspace_id=work.ws_id,
                question_id=q.id,
                member_id=person.member_id,
                level=q.level,
                now=work.now,
            )
        await store.set_ask_outcome(work.session, q.id, [person.member_id], "claimed")
        others = [m for m, a in asked.items() if m != person.member_id]
        await store.set_ask_outcome(
            work.session,
            q.id,
            [m for m in others if asked[m].outcome in ("asked", "snoozed")],
            "lost",
        )
        await self.engine.cancel_pending(work, q)
        for member_id in others:
            await work.edit(ask_key(q, member_id), say.taken(q, person.name), because="claimed")
        if person.member_id in asked:
            await work.edit(
                ask_key(q, person.member_id), say.yours(q, bool(q.channel_id)), because="claimed"
            )
        await self.engine.to_asker(
            work,
            q,
            f"routing:{q.id}:claimed",
            say.plain(f"🙌 {person.name} is on {qid(q.number)}."),
        )
        await store.add_change(
            work.session, q.id, "claimed", work.now, actor_id=person.member_id, note=via
        )
        metrics.question(work, "claimed")
        await self.engine.schedule_reminder(work, q, person.member_id)
        how = (
            "Reply in its thread"
            if q.channel_id
            else f"Answer with question answer {qid(q.number)} TEXT"
        )
        return f"👍 You're on {qid(q.number)}. {how}."

    async def pass_(self, work: Work, q: RoutingQuestion, person: Person) -> str:
        mine = await self._my_ask(work, q, person)
        await store.set_ask_outcome(work.session, q.id, [person.member_id], "passed")
        if q.topic_id is not None:
            await store.bump_fit(work.session, work.ws_id, person.member_id, q.topic_id, passes=1)
        await work.edit(
            ask_key(q, person.member_id),
            say.plain(f"👌 Thanks: {qid(q.number)} isn't your area, so I've asked someone else."),
            because="passed",
        )
        await store.add_change(work.session, q.id, "passed", work.now, actor_id=person.member_id)
        metrics.question(work, "passed")
        presence = self.ctx.presence.known()
        level, chosen, _ = await self.engine.decide(work, q, mine.level, presence, want=1)
        if not chosen:
            return (
                f"Thanks. Nobody else is available right now; {qid(q.number)} escalates as planned."
            )
        topic = await self.ctx.topic_by_id(work, q.topic_id)
        await self.engine.ask(work, q, chosen, level, topic)
        if level != q.level:  # passed on to the community managers: their level's clock
            await self.engine.cancel_pending(work, q)
            q.level = level
            await self.engine.schedule_escalation(work, q)
        return f"Thanks. I've asked {chosen[0].name} instead."

    async def snooze(self, work: Work, q: RoutingQuestion, person: Person, span: timedelta) -> str:
        await self._my_ask(work, q, person)
        await store.set_ask_outcome(work.session, q.id, [person.member_id], "snoozed")
        until = work.now + span
        await self.engine.push_escalation(work, q, until)
        args = JobArgs(
            workspace=work.workspace,
            question_id=q.id,
            member_id=person.member_id,
            wait=int(work.now.timestamp()),
        )
        await work.enqueue(
            SNOOZED,
            f"routing:snooze:{q.id}:{person.member_id}:{args.wait}",
            args.model_dump_json(),
            until,
        )
        await store.add_change(
            work.session, q.id, "snoozed", work.now, actor_id=person.member_id, note=str(span)
        )
        return f"😴 I'll remind you about {qid(q.number)} at {say.at(until, person.tz)}."

    async def _my_ask(self, work: Work, q: RoutingQuestion, person: Person) -> RoutingAsk:
        if q.status != "open":
            state = {"claimed": "someone is already on it", "resolved": "it is resolved"}.get(
                q.status, "it isn't out with anyone yet"
            )
            raise UserError(f"{qid(q.number)} can't be passed or snoozed now: {state}.")
        for ask, _ in await store.asks(work.session, q.id):
            if ask.member_id == person.member_id:
                if ask.outcome == "passed":
                    raise UserError(f"You passed on {qid(q.number)} already.")
                return ask
        raise UserError(
            f"You weren't asked about {qid(q.number)}, so there is nothing to pass or snooze."
        )

    # ----- answering and resolving ------------------------------------------------------------

    async def answer(self, work: Work, q: RoutingQuestion, person: Person, text: str) -> str:
        if q.status == "resolved":
            raise UserError(f"{qid(q.number)} is already resolved.")
        if person.member_id == q.asker_id:
            raise UserError(f"You asked {qid(q.number)}; resolve it once you have your answer.")
        await self.responded(work, q, person)
        if q.claimed_by is None:
            await self.claim(work, q, person, via="an answer")
        said = say.excerpt(text, 3000)
        key = f"routing:{q.id}:answer:{work.event_id or work.now.isoformat()}"
        if q.channel_id and q.message_id:
            await self.engine.to_asker(
                work, q, key, say.plain(f"💬 {person.name} answered: {said}")
            )
        else:
            await self.engine.to_asker(work, q, key, say.answered(q, person.name, said))
        return f"Sent your answer to {qid(q.number)}'s asker."

    async def resolve(
        self, work: Work, q: RoutingQuestion, actor: Person, helper: Person | None
    ) -> str:
        if q.status == "resolved":
            raise UserError(f"{qid(q.number)} is already resolved.")
        if actor.member_id != q.asker_id:
            await self.ctx.roles.require(actor, RESOLVE_ANY, work.session)
        if helper is not None and (helper.member_id == q.asker_id or helper.is_bot):
            raise UserError("Credit the person who helped: not the asker, and not a bot.")
        helper_id = helper.member_id if helper else (q.credit_id or q.claimed_by)
        await self.engine.cancel_pending(work, q)
        for key in (f"routing:check:{q.id}", f"routing:remind:{q.id}:{q.claimed_by}"):
            await self.s.scheduler.cancel(work.session, work.ws_id, key)
        was_out = q.status in ("open", "claimed")
        q.status, q.resolved_at, q.resolved_by = "resolved", work.now, actor.member_id
        q.helper_id, q.updated_at = helper_id, work.now
        q.resolution_wall = (work.now - q.created_at) / timedelta(minutes=1)
        q.resolution_working = await self.engine.working_minutes(work, q, work.now)
        asks = await store.asks(work.session, q.id)
        await store.set_ask_outcome(
            work.session,
            q.id,
            [a.member_id for a, _ in asks if a.outcome in ("asked", "snoozed")],
            "closed",
        )
        helper_name = await self.engine.name(work, helper_id) if helper_id else None
        for ask, _ in asks:
            await work.edit(
                ask_key(q, ask.member_id), say.resolved_note(q, helper_name), because="resolved"
            )
        if was_out and await work.was_queued(thread_key(q)):
            await work.edit(thread_key(q), say.resolved_note(q, helper_name), because="resolved")
        await self.engine.to_asker(
            work, q, f"routing:{q.id}:resolved", say.resolved_note(q, helper_name)
        )
        await store.add_change(
            work.session, q.id, "resolved", work.now, actor_id=actor.member_id, note=helper_name
        )
        metrics.question(work, "resolved")
        if helper_id is None:
            return f"✅ {qid(q.number)} is resolved."
        member = await ws_store.get_member_by_id(work.session, helper_id)
        assert member is not None
        credited = self.s.directory.from_member(work.workspace, member)
        await self.ctx.recognition.bump(work, credited, "questions_answered", 1)
        if q.topic_id is not None:
            await store.bump_fit(work.session, work.ws_id, helper_id, q.topic_id, resolved=1)
            await store.add_evidence(
                work.session, work.ws_id, q.topic_id, helper_id, classify.words(q.text)
            )
        await self.engine.dm(
            work,
            helper_id,
            f"routing:{q.id}:credited",
            say.plain(
                f"🎉 {qid(q.number)} is resolved and counts as a question you answered. Thanks!"
            ),
        )
        await self.engine.dm(
            work,
            q.asker_id,
            f"routing:{q.id}:thank",
            say.thank_card(q, credited.ref, credited.name),
        )
        return f"✅ {qid(q.number)} is resolved; {credited.name} is credited."

    async def not_yet(self, work: Work, q: RoutingQuestion, person: Person) -> str:
        """The asker says they have no answer yet: the claimer is nudged, else the community
        managers are asked now."""
        if person.member_id != q.asker_id:
            raise UserError("Only the asker can say whether they got an answer.")
        if q.status == "resolved":
            raise UserError(f"{qid(q.number)} is already resolved.")
        if q.status == "claimed" and q.claimed_by is not None:
            await self.engine.dm(
                work,
                q.claimed_by,
                f"routing:{q.id}:notyet:{q.claimed_by}",
                say.plain(f"⏰ The asker of {qid(q.number)} is still waiting for an answer."),
            )
            return f"I've nudged {await self.engine.name(work, q.claimed_by)}."
        presence = self.ctx.presence.known()
        level, chosen, _ = await self.engine.decide(work, q, MANAGER_LEVEL, presence)
        topic = await self.ctx.topic_by_id(work, q.topic_id)
        if not chosen:
            await self.engine.alert(work, q, "the asker still has no answer", "notyet")
            return "I've told the community team."
        await self.engine.cancel_pending(work, q)
        await self.engine.ask(work, q, chosen, level, topic)
        q.level, q.status = level, "open"
        return f"I've asked {', '.join(c.name for c in chosen)} from the community team."
