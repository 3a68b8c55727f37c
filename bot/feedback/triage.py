"""Triage: statuses, owners, categories, notes, and votes, each one unit of work.

Every status change is sent to the submitter and the voters in the same transaction that records
it; an anonymous submitter's name is never shown to anyone, yet they still hear about every
change. The triage card follows every change. Only people allowed `TRIAGE_FEEDBACK` triage,
checked inside the unit of work; anyone may vote.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.directory import Person
from bot.errors import FieldError, UsageError, UserError
from bot.events import Event
from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.feedback.messages import fb, label
from bot.feedback.permissions import triager
from bot.feedback.rules import CLOSING, OPEN, check_transition, checked_note, checked_request
from bot.ids import UserRef
from bot.messages import Message, Outbound, Reply, ToUser, rich
from bot.roles import Roles
from bot.services import Services
from bot.text import mentioned_ids
from bot.work import AlreadyDone, Work
from store import feedback as fb_store

ALREADY_DONE = "Already done."


def _said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))


@dataclass(frozen=True, slots=True)
class _Update:
    """One change that is not a status: an owner, a category or a note."""

    kind: str  # owner | category | note
    value: str | None  # the owner's name or the category; None for a note
    owner: Person | None = None
    note: str | None = None


# Checks an update's request once the actor may triage, and says what it changes.
_Decide = Callable[[Work, Person], Awaitable[_Update]]


class Triage:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    # ----- status -----------------------------------------------------------------------------

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
        original_number = checked_request(number, status, note, original)

        async def change_status(work: Work) -> int | None:
            actor = await triager(self.roles, work, event)
            if not await work.claim(type(event).__name__):
                return None
            session, now = work.session, work.now
            item = await load.item(work, number)
            check_transition(number, item.status, status, original_number)
            target = None
            if original_number is not None:
                target = await load.item(work, original_number)
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
            followers = list(
                dict.fromkeys([item.submitter_id, *await fb_store.voters(session, item.id)])
            )
            view = await load.view(work, item)
            merged: Message | None = None
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
                target_view = await load.view(work, target)
                merged = say.merged_dm(view, target_view, note, actor.name)
                await self._edit_card(work, event, target_view)
            members = await fb_store.members_by_id(session, followers)
            told = 0
            for member_id in followers:
                member = members.get(member_id)
                if member is None or member.is_bot:
                    continue
                message = merged or say.status_dm(
                    view, note, actor.name, voter=member_id != item.submitter_id
                )
                await work.send(
                    f"feedback:{item.id}:change:{change.id}:to:{member_id}",
                    Outbound(
                        target=ToUser(user=UserRef(work.workspace, member.external_id)),
                        message=message,
                    ),
                )
                told += 1
            await self._edit_card(work, event, view)
            return told

        try:
            told = await self.s.run(event, change_status)
        except AlreadyDone:
            told = None
        if told is None:
            return _said(ALREADY_DONE)
        others = told - 1 if told else 0
        whom = "its submitter" + (
            f" and {others} other{'s' if others != 1 else ''}" if others else ""
        )
        merged = f" (a duplicate of {fb(original_number)})" if original_number else ""
        return _said(f"{fb(number)} is now {label(status)}{merged}. I told {whom}.")

    # ----- owner, category, note --------------------------------------------------------------

    async def assign(self, event: Event, number: int, who: str) -> Reply:
        ids = mentioned_ids(who)
        myself = who.strip().lower() in ("", "me", "myself")
        owner_ref = UserRef(event.workspace, ids[0]) if not myself and len(ids) == 1 else None

        async def decide(work: Work, actor: Person) -> _Update:
            if myself:
                owner = actor
            elif owner_ref is not None:
                owner = await work.person(owner_ref)
            else:
                raise UsageError(
                    f"Assign it to me or to one @person, e.g. feedback assign {fb(number)} me"
                )
            if owner.is_bot:
                raise UserError(f"{owner.name} is a bot; feedback needs a person to own it.")
            return _Update("owner", owner.name, owner=owner)

        people = [owner_ref] if owner_ref is not None else []
        return await self._update(event, number, decide, people)

    async def set_category(self, event: Event, number: int, name: str) -> Reply:
        name = name.strip().lower()

        async def decide(work: Work, actor: Person) -> _Update:
            config = await feedback_config.load(work.session, work.ws_id)
            if name not in config.categories:
                raise FieldError(
                    "category",
                    (f"“{name}” is not a feedback category; " if name else "Name a category; ")
                    + f"choose one of {', '.join(config.categories)}.",
                )
            return _Update("category", name)

        return await self._update(event, number, decide)

    async def add_note(self, event: Event, number: int, note: str) -> Reply:
        async def decide(work: Work, actor: Person) -> _Update:
            text = checked_note(note)
            if not text:
                raise UsageError(f"Write the note, e.g. feedback note {fb(number)} called the team")
            return _Update("note", None, note=text)

        return await self._update(event, number, decide)

    async def _update(
        self,
        event: Event,
        number: int,
        decide: _Decide,
        people: list[UserRef] | None = None,
    ) -> Reply:
        """One owner, category or note change; `decide` checks the request once the actor
        may triage (so a refusal names the role before it names a mistake)."""

        async def update(work: Work) -> _Update | None:
            actor = await triager(self.roles, work, event)
            wanted = await decide(work, actor)
            if not await work.claim(type(event).__name__):
                return None
            item = await load.item(work, number)
            old: str | None = None
            if wanted.kind == "owner":
                assert wanted.owner is not None
                item.owner_id = wanted.owner.member_id
            elif wanted.kind == "category":
                old, item.category = item.category, wanted.value
            item.updated_at = work.now
            await fb_store.add_change(
                work.session,
                item_id=item.id,
                actor_id=actor.member_id,
                kind=wanted.kind,
                old=old,
                new=wanted.value,
                note=wanted.note,
                now=work.now,
            )
            view = await load.view(work, item)
            await self._edit_card(work, event, view)
            owner = wanted.owner
            if owner is not None and owner.ref != actor.ref:
                await work.send(
                    f"feedback:{item.id}:owner:{event.event_id}",
                    Outbound(
                        target=ToUser(user=owner.ref),
                        message=Message(
                            text=rich(f"📌 {actor.name} made you the owner of {fb(number)}: “")
                            + view.text(200)
                            + rich("”.")
                        ),
                    ),
                )
            return wanted

        try:
            done = await self.s.run(event, update, people=people or [])
        except AlreadyDone:
            done = None
        if done is None:
            return _said(ALREADY_DONE)
        return _said(
            {
                "owner": f"{fb(number)} is now owned by {done.value}.",
                "category": f"{fb(number)} is now in the category {done.value}.",
                "note": f"Noted on {fb(number)} (only the team sees notes).",
            }[done.kind]
        )

    # ----- votes ------------------------------------------------------------------------------

    async def vote(self, event: Event, number: int) -> Reply:
        async def vote(work: Work) -> Reply:
            voter = await work.person(event.actor, event.actor_profile)
            if not await work.claim(type(event).__name__):
                return _said(ALREADY_DONE)
            item = await load.item(work, number)
            if item.submitter_id == voter.member_id:
                raise UserError(
                    f"{fb(number)} is your own feedback: you already hear about every change."
                )
            if item.status not in OPEN:
                raise UserError(
                    f"{fb(number)} is {label(item.status)}; only open items take votes."
                )
            if not await fb_store.add_vote(work.session, item.id, voter.member_id, work.now):
                return _said(f"You already voted for {fb(number)}.")
            view = await load.view(work, item)
            await self._edit_card(work, event, view)
            return _said(
                f"👍 Your vote for {fb(number)} counts ({view.votes} in all). I'll message you "
                "whenever its status changes."
            )

        try:
            return await self.s.run(event, vote)
        except AlreadyDone:
            return _said(ALREADY_DONE)

    # ----- the card ---------------------------------------------------------------------------

    async def _edit_card(self, work: Work, event: Event, view: say.View) -> None:
        """Rewrites the item's triage card, when it was posted."""
        key = f"feedback:{view.item.id}:card"
        if await work.was_queued(key):
            await work.edit(key, say.triage_card(view), because=event.event_id)
