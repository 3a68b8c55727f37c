"""Filing feedback: by command, by the message action's form, and by reaction.

Every item gets a short per-workspace id (FB-42), a `created` change, its triage card (when the
workspace has a triage channel) and its aging reminder, all in the unit of work that files it.
A submission is filed once: a replayed event, or the same message filed twice, answers with the
item it already is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from pydantic import BaseModel

from bot.directory import Person
from bot.errors import FieldError, UserError
from bot.events import Event, ReactionChanged
from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.feedback.jobs import FeedbackJobs
from bot.feedback.messages import fb
from bot.feedback.rules import checked_text
from bot.ids import ConversationRef, MessageRef, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, Private, Reply, ToConversation, ToUser, rich
from bot.ports import MessageReader
from bot.services import Services
from bot.work import AlreadyDone, Work
from store import feedback as fb_store
from store.models import FeedbackItem

FILE_BY_REACTION = "feedback.reaction"


class ReactionFiling(BaseModel):
    """What the filing job needs of the reaction that asked for it."""

    workspace: WorkspaceRef
    event_id: str
    actor: str
    author: str
    conversation: str
    message: str
    link: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Submission:
    """One thing to file, whatever the gesture."""

    text: str
    anonymous: bool
    category: str | None
    source: str  # command | form | reaction
    source_key: str  # what is filed: "cmd:<event id>", "form:<event id>" or a message key
    link: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Filed:
    number: int
    before: bool  # filed before (a replay, or the same message again): nothing new happened


class Intake:
    def __init__(self, services: Services, jobs: FeedbackJobs) -> None:
        self.s = services
        self.jobs = jobs

    # ----- by command and by form -------------------------------------------------------------

    async def submit(self, event: Event, submission: Submission) -> Reply:
        """Files what the event's actor sent; the reply they see."""
        text = checked_text(submission.text)
        key = submission.source_key

        async def file(work: Work) -> Filed | None:
            if not await work.claim(type(event).__name__):
                return await self._filed_before(work, key)
            existing = await self._filed_before(work, key)
            if existing is not None:
                return existing
            submitter = await work.person(event.actor, event.actor_profile)
            item = await self._file(work, submission, text, submitter)
            return Filed(item.number, before=False)

        try:
            filed = await self.s.run(event, file)
        except AlreadyDone:
            # A concurrent delivery of the same submission won the race: it was filed once.
            filed = await self.s.run_in(event.workspace, lambda w: self._filed_before(w, key))
        if filed is None:
            return Reply(message=Message(text=rich("Already done.")))
        if filed.before:
            return Reply(message=Message(text=rich(f"Already filed as {fb(filed.number)}.")))
        return Reply(message=say.filed(filed.number, submission.anonymous, triage=True))

    async def _filed_before(self, work: Work, source_key: str) -> Filed | None:
        again = await fb_store.item_by_source(work.session, work.ws_id, source_key)
        return None if again is None else Filed(again.number, before=True)

    # ----- by reaction ------------------------------------------------------------------------

    async def on_reaction(self, work: Work, event: ReactionChanged) -> None:
        """A reaction listener: the configured reaction files the message as its author's
        feedback. Reading the message's text is a platform call, so the filing itself is a job
        (no platform call inside the event's transaction)."""
        if not event.added or event.message_author is None:
            return
        if not self.s.capabilities(event.workspace.platform).reactions_on_any_message:
            return  # Teams reports reactions on the bot's own posts only
        # Read on every reaction: shared between units of work (config invalidates it).
        config = await work.cached(
            ("feedback_config", work.ws_id),
            partial(feedback_config.load, work.session, work.ws_id),
        )
        if not config.reaction or event.reaction != config.reaction:
            return
        if not await work.claim(type(event).__name__):
            return
        author = await work.person(event.message_author)
        if author.is_bot:
            return
        await work.person(event.actor, event.actor_profile)
        job = ReactionFiling(
            workspace=event.workspace,
            event_id=event.event_id,
            actor=event.actor.id,
            author=event.message_author.id,
            conversation=event.message.conversation.id,
            message=event.message.id,
            link=event.message.link,
            at=event.occurred_at,
        )
        await work.enqueue(
            FILE_BY_REACTION, f"{FILE_BY_REACTION}:{event.event_id}", job.model_dump_json()
        )

    async def file_by_reaction(self, payload: str) -> None:
        """The job behind `on_reaction`: reads the message, then files it once. The reaction's
        event was claimed when the job was queued; the message's key keeps the filing single."""
        job = ReactionFiling.model_validate_json(payload)
        workspace = job.workspace
        conversation = ConversationRef(workspace, job.conversation)
        message = MessageRef(conversation, job.message, link=job.link)
        author_ref = UserRef(workspace, job.author)
        event = ReactionChanged(
            event_id=job.event_id,
            actor=UserRef(workspace, job.actor),
            occurred_at=job.at,
            message=message,
            reaction="",
            added=True,
            message_author=author_ref,
        )
        text = await self._message_text(message)  # before the unit of work: a platform call
        submission = Submission(
            text=text or f"(a message filed by reaction; see {message.link or 'it'})",
            anonymous=False,
            category=None,
            source="reaction",
            source_key=message.key,
            link=message.link,
        )

        async def file(work: Work) -> None:
            if await fb_store.item_by_source(work.session, work.ws_id, message.key) is not None:
                return  # filed before (another reaction, or a re-run of this job)
            author = await work.person(author_ref)
            filer = await work.person(event.actor)
            item = await self._file(
                work, submission, checked_text(submission.text), author, filed_by=filer
            )
            await self._tell_filed(work, item, author, filer, conversation)

        try:
            await self.s.run(event, file, people=[author_ref])
        except UserError:
            return  # e.g. a message over the length limit: a reaction has nowhere to say so

    async def _message_text(self, message: MessageRef) -> str | None:
        port = self.s.ports.get(message.conversation.workspace.platform)
        if isinstance(port, MessageReader):
            try:
                return await port.message_text(message)
            except Exception:  # the text is a nicety; the link still leads to it
                return None
        return None

    # ----- filing -----------------------------------------------------------------------------

    async def _file(
        self,
        work: Work,
        submission: Submission,
        text: str,
        submitter: Person,
        *,
        filed_by: Person | None = None,
    ) -> FeedbackItem:
        """Files an item in the caller's unit of work (which checked it is not filed yet)."""
        session, ws_id, now = work.session, work.ws_id, work.now
        config = await feedback_config.load(session, ws_id)
        category, anonymous = submission.category, submission.anonymous
        if category is not None and category not in config.categories:
            raise FieldError(
                "category",
                f"“{category}” is not a feedback category; choose one of "
                f"{', '.join(config.categories)}.",
            )
        item = await fb_store.add_item(
            session,
            workspace_id=ws_id,
            number=await fb_store.next_number(session, ws_id),
            text=text,
            submitter_id=submitter.member_id,
            anonymous=anonymous,
            filed_by_id=filed_by.member_id if filed_by else None,
            source=submission.source,
            source_key=submission.source_key,
            source_link=submission.link,
            category=category,
            status="new",
            created_at=now,
            updated_at=now,
        )
        creator = filed_by or (None if anonymous else submitter)
        await fb_store.add_change(
            session,
            item_id=item.id,
            actor_id=creator.member_id if creator else None,
            kind="created",
            now=now,
        )
        if submission.note:
            await fb_store.add_change(
                session,
                item_id=item.id,
                actor_id=None if anonymous else submitter.member_id,
                kind="note",
                note=submission.note,
                now=now,
            )
        if config.triage_channel:
            view = await load.view(work, item)
            key = f"feedback:{item.id}:card"
            conv = ConversationRef(work.workspace, config.triage_channel)
            await work.send(
                key,
                Outbound(
                    target=ToConversation(conversation=conv),
                    message=say.triage_card(view),
                    key=key,
                ),
            )
        await self.jobs.schedule_aging(work, item, config.aging_days)
        await self.jobs.ensure_recurring(work)
        return item

    async def _tell_filed(
        self,
        work: Work,
        item: FeedbackItem,
        author: Person,
        filer: Person,
        conversation: ConversationRef,
    ) -> None:
        """Filed by reaction: the author hears it was filed for them, the filer that it was."""
        view = await load.view(work, item)
        await work.send(
            f"feedback:{item.id}:filed:author",
            Outbound(
                target=ToUser(user=author.ref),
                message=say.filed_for_author(
                    item.number, filer.name, view.text(300), view.item.source_link
                ),
            ),
        )
        if filer.ref != author.ref:
            await work.send(
                f"feedback:{item.id}:filed:filer",
                Outbound(
                    target=Private(user=filer.ref, conversation=conversation),
                    message=Message(
                        text=rich(
                            f"📝 Filed {author.name}'s message as feedback {fb(item.number)}; "
                            "I told them, and they'll hear about every change."
                        )
                    ),
                ),
            )
