"""Feedback: intake (command, message action + form, reaction), triage, and closing the loop.

Rules: every item gets a short per-workspace id (FB-42); statuses move only along `NEXT`; an
item is closed (done, declined, duplicate) only with a message to its submitter; every status
change is sent to the submitter and the voters in the same transaction that records it; an
anonymous submitter's name is never shown to anyone, yet they still hear about every change.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Person
from bot.errors import FieldError, UsageError, UserError
from bot.events import (
    ActionPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    MessageActionInvoked,
    ReactionChanged,
)
from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.feedback.export import to_csv
from bot.feedback.jobs import FeedbackJobs
from bot.feedback.messages import fb, label
from bot.ids import ConversationRef, MessageRef, UserRef
from bot.messages import (
    Edit,
    FileAttachment,
    Form,
    FormField,
    Message,
    Outbound,
    Private,
    Reply,
    ToConversation,
    ToUser,
    rich,
)
from bot.roles import Permission, Roles
from bot.services import Services
from bot.text import mentioned_ids
from store import DuplicateError
from store import events as event_store
from store import feedback as fb_store
from store import jobs as job_store
from store.models import FeedbackItem

MAX_TEXT = 4000
MAX_NOTE = 2000
USAGE = (
    "TEXT | anonymous TEXT | list [status] [category] [mine] | show FB-42 | vote FB-42 | "
    "status FB-42 STATUS [“note”] | assign FB-42 me|@person | category FB-42 NAME | "
    "note FB-42 TEXT | export [since YYYY-MM-DD]"
)
EXAMPLES = (
    "feedback the onboarding guide skips the VPN setup",
    "feedback status FB-42 planned “in the Q3 plan”",
    "feedback list new",
)
STATUSES = ("new", "acknowledged", "planned", "in_progress", "done", "declined", "duplicate")
CLOSING = ("done", "declined", "duplicate")
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "declined", "duplicate"),
    "acknowledged": ("planned", "in_progress", "declined", "duplicate"),
    "planned": ("in_progress", "done", "declined"),
    "in_progress": ("planned", "done", "declined"),
    "done": (),
    "declined": (),
    "duplicate": (),
}
STATUS_WORDS = {
    "new": "new",
    "ack": "acknowledged",
    "acknowledge": "acknowledged",
    "acknowledged": "acknowledged",
    "plan": "planned",
    "planned": "planned",
    "in-progress": "in_progress",
    "in_progress": "in_progress",
    "progress": "in_progress",
    "started": "in_progress",
    "done": "done",
    "decline": "declined",
    "declined": "declined",
    "duplicate": "duplicate",
    "dup": "duplicate",
}
_ID = re.compile(r"(?:fb-?|#)?(\d{1,9})", re.IGNORECASE)
_QUOTES = ('"', "\u201c", "\u201d", "'", "\u2018", "\u2019")


@runtime_checkable
class MessageReader(Protocol):
    """Ports that can read a message's text (needed to file a message by reaction)."""

    async def message_text(self, message: MessageRef) -> str | None: ...


def parse_number(token: str) -> int:
    token = token.strip()
    if not token:
        raise UsageError("Which item? Name it like FB-42 (feedback list shows them).")
    match = _ID.fullmatch(token)
    if not match:
        raise UsageError(
            f"“{token}” is not a feedback id; expected one like FB-42 (feedback list shows them)."
        )
    return int(match.group(1))


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise FieldError(
            "text",
            "Your feedback is empty. Say what you'd like the community team to know, e.g. "
            f"{EXAMPLES[0]}",
        )
    if len(text) > MAX_TEXT:
        raise FieldError(
            "text",
            f"Your feedback is {len(text):,} characters long; keep it to {MAX_TEXT:,} or fewer "
            "(split it into several items).",
        )
    return text


def checked_note(note: str | None, field: str = "note") -> str | None:
    note = unquote(note or "") or None
    if note and len(note) > MAX_NOTE:
        raise FieldError(
            field, f"That note is {len(note):,} characters long; keep it to {MAX_NOTE:,} or fewer."
        )
    return note


class FeedbackService:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles
        self.jobs = FeedbackJobs(services)

    # ----- commands ---------------------------------------------------------------------------

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        verb, rest = verb.lower(), rest.strip()
        first, _, after = rest.partition(" ")
        match verb:
            case "list":
                return await self.list(event, rest)
            case "show":
                return await self.show(event, parse_number(first))
            case "vote":
                return await self.vote(event, parse_number(first))
            case "status":
                return await self._status_command(event, rest)
            case "ack" | "acknowledge":
                return await self.set_status(event, parse_number(first), "acknowledged", after)
            case "decline":
                return await self.set_status(event, parse_number(first), "declined", after)
            case "duplicate":
                original, _, note = after.strip().partition(" ")
                return await self.set_status(
                    event, parse_number(first), "duplicate", note, original=original
                )
            case "assign":
                return await self.assign(event, parse_number(first), after)
            case "category":
                return await self.set_category(event, parse_number(first), after)
            case "note":
                return await self.add_note(event, parse_number(first), after)
            case "export":
                return await self.export(event, rest)
            case "anonymous" | "anon":
                return await self._submit_command(event, rest, anonymous=True)
            case "new" | "send":
                return await self._submit_command(event, rest, anonymous=False)
            case _:
                return await self._submit_command(event, args, anonymous=False)

    async def _submit_command(self, event: CommandInvoked, text: str, *, anonymous: bool) -> Reply:
        submitter = await self.s.directory.person(event.actor, event.actor_profile)
        number, duplicate = await self._file(
            event,
            submitter=submitter,
            text=text,
            anonymous=anonymous,
            category=None,
            source="command",
            source_key=f"cmd:{event.event_id}",
            link=None,
        )
        if duplicate:
            return Reply(message=Message(text=rich(f"Already filed as {fb(number)}.")))
        return Reply(message=say.filed(number, anonymous, triage=True))

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
        return await self.set_status(event, number, status, note, original=original)

    # ----- intake -----------------------------------------------------------------------------

    async def on_message_action(self, event: MessageActionInvoked) -> Reply:
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            config = await feedback_config.load(session, ws_id)
        state = json.dumps({"key": event.message.key, "link": event.message.link})
        return Reply(
            message=Message(text=rich("Fill in the form to send that message as feedback.")),
            form=Form(
                form_id="feedback:new",
                title="Send as feedback",
                submit="Send",
                state=state,
                fields=(
                    FormField(
                        id="text",
                        label="Feedback",
                        kind="multiline",
                        value=event.message_text[:MAX_TEXT],
                        max_length=MAX_TEXT,
                    ),
                    FormField(
                        id="category",
                        label="Category",
                        kind="select",
                        options=config.categories,
                        optional=True,
                    ),
                    FormField(
                        id="note",
                        label="Anything to add?",
                        kind="multiline",
                        optional=True,
                        max_length=MAX_NOTE,
                    ),
                    FormField(
                        id="anonymous",
                        label="Send anonymously?",
                        kind="select",
                        options=("no", "yes"),
                        value="no",
                        hint="The community team won't see your name; you still get updates.",
                    ),
                ),
            ),
        )

    async def on_form(self, event: FormSubmitted) -> Reply:
        kind = event.form_id.partition(":")[2]
        values = event.values
        if kind == "new":
            try:
                state = json.loads(event.state or "{}")
            except ValueError:
                state = {}
            anonymous = values.get("anonymous", "no").strip().lower() in ("yes", "true", "on")
            submitter = await self.s.directory.person(event.actor, event.actor_profile)
            number, duplicate = await self._file(
                event,
                submitter=submitter,
                text=values.get("text", ""),
                anonymous=anonymous,
                category=(values.get("category") or "").strip() or None,
                source="form",
                source_key=f"form:{event.event_id}",
                link=state.get("link") if isinstance(state, dict) else None,
                note=checked_note(values.get("note")),
            )
            if duplicate:
                return Reply(message=Message(text=rich(f"Already filed as {fb(number)}.")))
            return Reply(message=say.filed(number, anonymous, triage=True))
        number = parse_number(event.state)
        if kind == "decline":
            reason = checked_note(values.get("reason"), "reason")
            if not reason:
                raise FieldError("reason", "Say why it is declined: its submitter will read it.")
            return await self.set_status(event, number, "declined", reason)
        if kind == "duplicate":
            original = (values.get("original") or "").strip()
            try:
                parse_number(original)
            except UserError as exc:
                raise FieldError("original", str(exc)) from None
            note = checked_note(values.get("note"))
            if not note:
                raise FieldError("note", "Write a line to its submitter; they will read it.")
            return await self.set_status(event, number, "duplicate", note, original=original)
        if kind == "category":
            return await self.set_category(event, number, values.get("category", ""))
        raise UserError("That form has expired; please start again.")

    async def on_reaction(self, event: ReactionChanged) -> None:
        if not event.added or event.message_author is None:
            return
        if not self.s.capabilities(event.workspace.platform).reactions_on_any_message:
            return  # Teams reports reactions on the bot's own posts only
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            config = await feedback_config.load(session, ws_id)
        if not config.reaction or event.reaction != config.reaction:
            return
        hints = self.s.directory.hints(event.profiles, [event.message_author])
        author = (await self.s.directory.people([event.message_author], hints))[
            event.message_author
        ]
        if author.is_bot:
            return
        filer = await self.s.directory.person(event.actor, event.actor_profile)
        text = await self._message_text(event.message)
        try:
            await self._file(
                event,
                submitter=author,
                text=text or f"(a message filed by reaction; see {event.message.link or 'it'})",
                anonymous=False,
                category=None,
                source="reaction",
                source_key=event.message.key,
                link=event.message.link,
                filed_by=filer,
            )
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

    async def _file(
        self,
        event: Event,
        *,
        submitter: Person,
        text: str,
        anonymous: bool,
        category: str | None,
        source: str,
        source_key: str,
        link: str | None,
        filed_by: Person | None = None,
        note: str | None = None,
    ) -> tuple[int, bool]:
        """Files an item; returns (number, True) when the same source was filed before."""
        text = checked_text(text)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        try:
            async with self.s.db.transaction() as session:
                existing = await fb_store.item_by_source(session, ws_id, source_key)
                if existing is not None:
                    return existing.number, True
                config = await feedback_config.load(session, ws_id)
                if category is not None and category not in config.categories:
                    raise FieldError(
                        "category",
                        f"“{category}” is not a feedback category; choose one of "
                        f"{', '.join(config.categories)}.",
                    )
                number = await fb_store.next_number(session, ws_id)
                item = await fb_store.add_item(
                    session,
                    workspace_id=ws_id,
                    number=number,
                    text=text,
                    submitter_id=submitter.member_id,
                    anonymous=anonymous,
                    filed_by_id=filed_by.member_id if filed_by else None,
                    source=source,
                    source_key=source_key,
                    source_link=link,
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
                if note:
                    await fb_store.add_change(
                        session,
                        item_id=item.id,
                        actor_id=None if anonymous else submitter.member_id,
                        kind="note",
                        note=note,
                        now=now,
                    )
                view = await load.view(session, event.workspace, item)
                if config.triage_channel:
                    key = f"feedback:{item.id}:card"
                    conv = ConversationRef(event.workspace, config.triage_channel)
                    await self.s.delivery.send(
                        session,
                        event.workspace,
                        ws_id,
                        key,
                        Outbound(
                            target=ToConversation(conversation=conv),
                            message=say.triage_card(view),
                            key=key,
                        ),
                    )
                await self.jobs.schedule_aging(session, ws_id, item, config.aging_days)
                await self.jobs.ensure_recurring(session, ws_id)
                if filed_by is not None:
                    await self._tell_filed(session, event, ws_id, item, view, submitter, filed_by)
                return number, False
        except DuplicateError:
            # A concurrent delivery of the same submission won the race: it was filed once.
            async with self.s.db.transaction() as session:
                again = await fb_store.item_by_source(session, ws_id, source_key)
            if again is None:
                raise
            return again.number, True
        finally:
            self.s.scheduler.wake()

    async def _tell_filed(
        self,
        session: AsyncSession,
        event: Event,
        ws_id: int,
        item: FeedbackItem,
        view: say.View,
        author: Person,
        filer: Person,
    ) -> None:
        await self.s.delivery.send(
            session,
            event.workspace,
            ws_id,
            f"feedback:{item.id}:filed:author",
            Outbound(
                target=ToUser(user=author.ref),
                message=say.filed_for_author(
                    item.number, filer.name, view.text(300), view.item.source_link
                ),
            ),
        )
        conversation = getattr(getattr(event, "message", None), "conversation", None)
        if isinstance(conversation, ConversationRef) and filer.ref != author.ref:
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
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

    # ----- triage -----------------------------------------------------------------------------

    async def _triager(self, event: Event) -> Person:
        actor = await self.s.directory.person(event.actor, event.actor_profile)
        await self.roles.require(actor, Permission.TRIAGE_FEEDBACK)
        return actor

    async def _item(self, session: AsyncSession, ws_id: int, number: int) -> FeedbackItem:
        item = await fb_store.item_by_number(session, ws_id, number, lock=True)
        if item is None:
            raise UserError(
                f"There's no feedback {fb(number)} in this workspace; feedback list shows the "
                "open items."
            )
        return item

    async def _claim(self, session: AsyncSession, ws_id: int, event: Event, kind: str) -> bool:
        return await event_store.claim_event(
            session, ws_id, f"{event.event_id}:feedback", kind, self.s.clock.now()
        )

    async def set_status(
        self,
        event: Event,
        number: int,
        status: str,
        note: str | None,
        *,
        original: str | None = None,
    ) -> Reply:
        note = checked_note(note)
        if status == "declined" and not note:
            raise UserError(
                f"Declining {fb(number)} needs a reason for its submitter, e.g. "
                f"feedback status {fb(number)} declined “we're keeping the current format”"
            )
        if status in CLOSING and not note:
            raise UserError(
                f"Closing {fb(number)} as {label(status)} needs a message to its submitter, e.g. "
                f"feedback status {fb(number)} {status}"
                + (" FB-12" if status == "duplicate" else "")
                + " “what happened”"
            )
        if status == "duplicate" and not original:
            raise UsageError(
                f"Which item is {fb(number)} a duplicate of? e.g. feedback status {fb(number)} "
                "duplicate FB-12 “tracked there”"
            )
        original_number = parse_number(original) if original else None
        actor = await self._triager(event)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        told = 0
        try:
            async with self.s.db.transaction() as session:
                if not await self._claim(session, ws_id, event, "FeedbackStatus"):
                    return Reply(message=Message(text=rich("Already done.")))
                item = await self._item(session, ws_id, number)
                if item.status == status:
                    raise UserError(f"{fb(number)} is already {label(status)}.")
                allowed = NEXT[item.status]
                if status not in allowed:
                    raise UserError(
                        f"{fb(number)} is {label(item.status)}, so it can't become {label(status)}"
                        + (
                            f"; from {label(item.status)} it can go to "
                            f"{', '.join(label(s) for s in allowed)}."
                            if allowed
                            else ": it is closed, and closed items keep their status."
                        )
                    )
                target = None
                if original_number is not None:
                    if original_number == number:
                        raise UserError(f"{fb(number)} can't be a duplicate of itself.")
                    target = await self._item(session, ws_id, original_number)
                    if target.duplicate_of_id is not None:
                        first = await fb_store.get_item(session, target.duplicate_of_id)
                        where = fb(first.number) if first else "another item"
                        raise UserError(
                            f"{fb(original_number)} is itself a duplicate of {where}; mark "
                            f"{fb(number)} a duplicate of {where} instead."
                        )
                old = item.status
                item.status, item.updated_at = status, now
                if old == "new" and item.acknowledged_at is None:
                    item.acknowledged_at = now
                if status in CLOSING:
                    item.closed_at = now
                if target is not None:
                    item.duplicate_of_id = target.id
                change = await fb_store.add_change(
                    session,
                    item_id=item.id,
                    actor_id=actor.member_id,
                    kind="status",
                    old=old,
                    new=status,
                    note=note,
                    now=now,
                )
                followers = [item.submitter_id, *await fb_store.voters(session, item.id)]
                followers = list(dict.fromkeys(followers))
                view = await load.view(session, event.workspace, item)
                if target is not None:
                    for member_id in followers:
                        if member_id != target.submitter_id:
                            await fb_store.add_vote(session, target.id, member_id, now)
                    await fb_store.add_change(
                        session,
                        item_id=target.id,
                        actor_id=actor.member_id,
                        kind="merged",
                        new=fb(number),
                        now=now,
                    )
                    target_view = await load.view(session, event.workspace, target)
                    message = say.merged_dm(view, target_view, note, actor.name)
                    await self._edit_card(session, event, ws_id, target_view)
                members = await fb_store.members_by_id(session, followers)
                for member_id in followers:
                    member = members.get(member_id)
                    if member is None or member.is_bot:
                        continue
                    if target is None:
                        message = say.status_dm(
                            view, note, actor.name, voter=member_id != item.submitter_id
                        )
                    await self.s.delivery.send(
                        session,
                        event.workspace,
                        ws_id,
                        f"feedback:{item.id}:change:{change.id}:to:{member_id}",
                        Outbound(
                            target=ToUser(user=UserRef(event.workspace, member.external_id)),
                            message=message,
                        ),
                    )
                    told += 1
                await self._edit_card(session, event, ws_id, view)
        except DuplicateError:
            return Reply(message=Message(text=rich("Already done.")))
        finally:
            self.s.scheduler.wake()
        others = told - 1 if told else 0
        whom = "its submitter" + (
            f" and {others} other{'s' if others != 1 else ''}" if others else ""
        )
        merged = f" (a duplicate of {fb(original_number)})" if original_number else ""
        return Reply(
            message=Message(
                text=rich(f"{fb(number)} is now {label(status)}{merged}. I told {whom}.")
            )
        )

    async def assign(self, event: Event, number: int, who: str) -> Reply:
        actor = await self._triager(event)
        ids = mentioned_ids(who)
        if who.strip().lower() in ("", "me", "myself"):
            owner = actor
        elif len(ids) == 1:
            owner = await self.s.directory.person(
                UserRef(event.workspace, ids[0]), event.profiles.get(ids[0])
            )
        else:
            raise UsageError(
                f"Assign it to me or to one @person, e.g. feedback assign {fb(number)} me"
            )
        if owner.is_bot:
            raise UserError(f"{owner.name} is a bot; feedback needs a person to own it.")
        return await self._update(
            event, number, actor, "owner", owner.name, owner_id=owner.member_id, notify=owner
        )

    async def set_category(self, event: Event, number: int, name: str) -> Reply:
        actor = await self._triager(event)
        name = name.strip().lower()
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            config = await feedback_config.load(session, ws_id)
        if name not in config.categories:
            raise FieldError(
                "category",
                (f"“{name}” is not a feedback category; " if name else "Name a category; ")
                + f"choose one of {', '.join(config.categories)}.",
            )
        return await self._update(event, number, actor, "category", name)

    async def add_note(self, event: Event, number: int, note: str) -> Reply:
        actor = await self._triager(event)
        text = checked_note(note)
        if not text:
            raise UsageError(f"Write the note, e.g. feedback note {fb(number)} called the team")
        return await self._update(event, number, actor, "note", None, note=text)

    async def _update(
        self,
        event: Event,
        number: int,
        actor: Person,
        kind: str,
        value: str | None,
        *,
        owner_id: int | None = None,
        note: str | None = None,
        notify: Person | None = None,
    ) -> Reply:
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        try:
            async with self.s.db.transaction() as session:
                if not await self._claim(session, ws_id, event, f"Feedback{kind}"):
                    return Reply(message=Message(text=rich("Already done.")))
                item = await self._item(session, ws_id, number)
                old: str | None = None
                if kind == "owner":
                    old, item.owner_id = None, owner_id
                elif kind == "category":
                    old, item.category = item.category, value
                item.updated_at = now
                await fb_store.add_change(
                    session,
                    item_id=item.id,
                    actor_id=actor.member_id,
                    kind=kind,
                    old=old,
                    new=value,
                    note=note,
                    now=now,
                )
                view = await load.view(session, event.workspace, item)
                await self._edit_card(session, event, ws_id, view)
                if notify is not None and notify.ref != actor.ref:
                    await self.s.delivery.send(
                        session,
                        event.workspace,
                        ws_id,
                        f"feedback:{item.id}:owner:{event.event_id}",
                        Outbound(
                            target=ToUser(user=notify.ref),
                            message=Message(
                                text=rich(f"📌 {actor.name} made you the owner of {fb(number)}: “")
                                + view.text(200)
                                + rich("”.")
                            ),
                        ),
                    )
        except DuplicateError:
            return Reply(message=Message(text=rich("Already done.")))
        finally:
            self.s.scheduler.wake()
        done = {
            "owner": f"{fb(number)} is now owned by {value}.",
            "category": f"{fb(number)} is now in the category {value}.",
            "note": f"Noted on {fb(number)} (only the team sees notes).",
        }[kind]
        return Reply(message=Message(text=rich(done)))

    async def vote(self, event: Event, number: int) -> Reply:
        voter = await self.s.directory.person(event.actor, event.actor_profile)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        try:
            async with self.s.db.transaction() as session:
                if not await self._claim(session, ws_id, event, "FeedbackVote"):
                    return Reply(message=Message(text=rich("Already done.")))
                item = await self._item(session, ws_id, number)
                if item.submitter_id == voter.member_id:
                    raise UserError(
                        f"{fb(number)} is your own feedback: you already hear about every change."
                    )
                if item.status not in fb_store.OPEN:
                    raise UserError(
                        f"{fb(number)} is {label(item.status)}; only open items take votes."
                    )
                if not await fb_store.add_vote(session, item.id, voter.member_id, now):
                    return Reply(message=Message(text=rich(f"You already voted for {fb(number)}.")))
                view = await load.view(session, event.workspace, item)
                await self._edit_card(session, event, ws_id, view)
        except DuplicateError:
            return Reply(message=Message(text=rich("Already done.")))
        finally:
            self.s.scheduler.wake()
        return Reply(
            message=Message(
                text=rich(
                    f"👍 Your vote for {fb(number)} counts ({view.votes} in all). I'll message you "
                    "whenever its status changes."
                )
            )
        )

    async def _edit_card(
        self, session: AsyncSession, event: Event, ws_id: int, view: say.View
    ) -> None:
        """Rewrites the item's triage card, when it was posted."""
        key = f"feedback:{view.item.id}:card"
        if await job_store.get_job(session, ws_id, f"deliver:{key}") is None:
            return
        await self.s.delivery.send(
            session,
            event.workspace,
            ws_id,
            f"{key}:edit:{event.event_id}",
            Edit(key=key, message=say.triage_card(view)),
        )

    # ----- buttons ----------------------------------------------------------------------------

    async def on_action(self, event: ActionPressed) -> Reply:
        verb = event.action_id.partition(":")[2]
        number = parse_number(event.value)
        if verb == "ack":
            return await self.set_status(event, number, "acknowledged", None)
        if verb == "assign":
            return await self.assign(event, number, "me")
        if verb == "vote":
            return await self.vote(event, number)
        await self._triager(event)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            item = await self._item(session, ws_id, number)
            config = await feedback_config.load(session, ws_id)
        state = str(number)
        fields: tuple[FormField, ...]
        if verb == "category":
            title, submit = f"Category of {fb(number)}", "Save"
            fields = (
                FormField(
                    id="category",
                    label="Category",
                    kind="select",
                    options=config.categories,
                    value=item.category or "",
                ),
            )
        elif verb == "decline":
            title, submit = f"Decline {fb(number)}", "Decline"
            fields = (
                FormField(
                    id="reason",
                    label="Why? (sent to the submitter)",
                    kind="multiline",
                    max_length=MAX_NOTE,
                ),
            )
        elif verb == "duplicate":
            title, submit = f"{fb(number)} is a duplicate", "Merge"
            fields = (
                FormField(id="original", label="Duplicate of (e.g. FB-12)"),
                FormField(
                    id="note",
                    label="Message to its submitter and voters",
                    kind="multiline",
                    max_length=MAX_NOTE,
                ),
            )
        else:
            raise UserError(f"That button ({event.action_id}) is not one I know.")
        return Reply(
            message=Message(text=rich(f"{title}: fill in the form.")),
            form=Form(
                form_id=f"feedback:{verb}", title=title, fields=fields, submit=submit, state=state
            ),
        )

    # ----- reading ----------------------------------------------------------------------------

    async def list(self, event: CommandInvoked, rest: str) -> Reply:
        viewer = await self.s.directory.person(event.actor, event.actor_profile)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            config = await feedback_config.load(session, ws_id)
            statuses: tuple[str, ...] = fb_store.OPEN
            category = None
            mine = False
            heading = "Open feedback, most voted first"
            for word in rest.lower().split():
                if word == "mine":
                    mine = True
                elif word == "all":
                    statuses, heading = STATUSES, "All feedback, most voted first"
                elif word == "open":
                    statuses = fb_store.OPEN
                elif word == "closed":
                    statuses, heading = CLOSING, "Closed feedback"
                elif word in STATUS_WORDS:
                    status = STATUS_WORDS[word]
                    statuses, heading = (status,), f"Feedback that is {label(status)}"
                elif word in config.categories:
                    category = word
                else:
                    raise UsageError(
                        f"“{word}” is not a status, a category or “mine”.\n"
                        "Usage: feedback list [status] [category] [mine]; statuses: "
                        f"{', '.join(label(s) for s in STATUSES)}, open, closed, all; "
                        f"categories: {', '.join(config.categories)}."
                    )
            rows = await fb_store.list_items(
                session,
                ws_id,
                statuses=statuses,
                category=category,
                submitter_id=viewer.member_id if mine else None,
                limit=30,
            )
            views = await load.views(
                session, event.workspace, [i for i, _ in rows], {i.id: n for i, n in rows}
            )
        if category:
            heading += f" in {category}"
        if mine:
            heading += " (yours)"
        return Reply(message=say.item_list(views, heading))

    async def show(self, event: CommandInvoked, number: int) -> Reply:
        viewer = await self.s.directory.person(event.actor, event.actor_profile)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            item = await self._item(session, ws_id, number)
            view = await load.view(session, event.workspace, item)
            changes = await fb_store.changes(session, item.id)
            actors = await fb_store.members_by_id(
                session, [c.actor_id for c in changes if c.actor_id]
            )
            numbers = {}
            if item.duplicate_of_id:
                original = await fb_store.get_item(session, item.duplicate_of_id)
                if original is not None:
                    numbers[original.id] = original.number
        names = {i: load.name(m) or "" for i, m in actors.items()}
        return Reply(message=say.history(view, changes, names, viewer.tz, numbers))

    async def export(self, event: CommandInvoked, rest: str) -> Reply:
        actor = await self._triager(event)
        since: datetime | None = None
        words = rest.split()
        if words:
            if len(words) != 2 or words[0].lower() != "since":
                raise UsageError("Usage: feedback export [since YYYY-MM-DD]")
            try:
                day = datetime.strptime(words[1], "%Y-%m-%d")
            except ValueError:
                raise UsageError(
                    f"“{words[1]}” is not a date; expected YYYY-MM-DD, e.g. "
                    "feedback export since 2026-11-01"
                ) from None
            since = day.replace(tzinfo=actor.tz)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        async with self.s.db.transaction() as session:
            rows = await fb_store.list_items(
                session, ws_id, statuses=STATUSES, since=since, limit=None
            )
            rows.sort(key=lambda row: row[0].number)
            views = await load.views(
                session, event.workspace, [i for i, _ in rows], {i.id: n for i, n in rows}
            )
            notes = await fb_store.last_notes(session, [i.id for i, _ in rows])
            name = f"feedback-{now.astimezone(actor.tz):%Y-%m-%d}.csv"
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"feedback:export:{event.event_id}",
                Outbound(
                    target=ToUser(user=actor.ref),
                    message=Message(
                        text=rich(f"📄 Feedback export: {len(views)} items."),
                        file=FileAttachment(name=name, content=to_csv(views, notes, actor.tz)),
                    ),
                ),
            )
        self.s.scheduler.wake()
        return Reply(
            message=Message(
                text=rich(
                    f"📄 Exported {len(views)} items; I've sent you {name} in a direct message."
                )
            )
        )
