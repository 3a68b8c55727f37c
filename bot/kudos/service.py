"""Kudos: thanking people by command, reaction or message action, with fair-use rules.

Rules: no kudos to yourself or to bots; one kudos per giver per message; a daily allowance per
giver counted in the giver's own time zone; a replayed delivery never counts twice (the event id
is claimed in the same transaction that records the kudos and queues its messages).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import cast

from bot import calendar
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked, Event, MessageActionInvoked, ReactionChanged
from bot.ids import ConversationKind, ConversationRef, MessageRef, Platform, UserRef
from bot.kudos import messages as say
from bot.kudos.events import KudosChanged
from bot.kudos.review import KudosReview
from bot.messages import Message, Outbound, Private, Reply, Rich, ToConversation, ToUser, rich
from bot.services import Services
from bot.text import MENTION, mentioned_ids, values_in
from bot.work import AlreadyDone, Work
from store import kudos as kudos_store
from store import sent as sent_store
from store import workspaces as ws_store
from store.models import Kudos

MAX_REASON = 1000
USAGE = "@person [@person ...] what you're thanking them for [#value ...]"
EXAMPLES = ("kudos @ana thanks for the demo #teamwork", "kudos stats @ana", "kudos review")


@dataclass(frozen=True, slots=True)
class Grant:
    """One attempt to thank people, whatever the platform gesture."""

    recipients: tuple[UserRef, ...]
    reason: str
    values: tuple[str, ...]
    source: str  # command | reaction | message_action
    source_key: str  # what was thanked: "msg:<conversation>:<message>" or "cmd:<event id>"
    conversation: ConversationRef | None
    message: MessageRef | None = None
    reaction: str | None = None
    thread_id: str | None = None  # where a command was typed in a thread

    @property
    def link(self) -> str | None:
        return self.message.link if self.message else None


@dataclass
class Outcome:
    given: list[Person] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence per refusal
    used: int = 0
    allowance: int = 0
    duplicate: bool = False


def parse_give(args: str) -> tuple[list[str], str]:
    """Splits `@a @b thanks for X` into recipient ids and the reason.

    Leading mentions (optionally joined by commas or "and") are the recipients; when the text
    does not start with one, everyone mentioned is thanked and the whole text is the reason.
    """
    rest = args.strip()
    recipients: list[str] = []
    while True:
        rest = rest.lstrip(" ,")
        match = MENTION.match(rest)
        if match:
            recipients.append(match.group(1))
            rest = rest[match.end() :]
            continue
        joiner = re.match(r"(and|&)\s+(?=<@)", rest, flags=re.IGNORECASE)
        if recipients and joiner:
            rest = rest[joiner.end() :]
            continue
        break
    if not recipients:
        return mentioned_ids(args), args.strip()
    return list(dict.fromkeys(recipients)), rest.strip()


class KudosService:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.review = KudosReview(services)

    # ----- entry points ---------------------------------------------------------------

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        head, _, rest = args.strip().partition(" ")
        if head.lower() == "stats":
            return await self.stats(event, rest)
        if head.lower() == "review" and not mentioned_ids(args):
            return await self.review.command(event, rest)
        recipient_ids, reason = parse_give(args)
        prefix = self.s.capabilities(event.workspace.platform).command_prefix
        if not recipient_ids:
            raise UsageError(
                f"Who are you thanking? Mention them with @.\nUsage: {prefix}kudos {USAGE}\n"
                f"Example: {prefix}{EXAMPLES[0]}"
            )
        if not reason:
            raise UsageError(
                "Say what you're thanking them for: that is what makes kudos mean something.\n"
                f"Example: {prefix}{EXAMPLES[0]}"
            )
        grant = Grant(
            recipients=tuple(UserRef(event.workspace, r) for r in recipient_ids),
            reason=_checked(reason),
            values=tuple(values_in(reason)),
            source="command",
            source_key=f"cmd:{event.event_id}",
            conversation=event.conversation,
            thread_id=event.thread_id,
        )
        return await self._give_and_summarise(event, grant)

    async def on_message_action(self, event: MessageActionInvoked) -> Reply:
        reason = (event.inputs.get("reason") or "").strip()
        if not reason:
            raise UserError("Say what you're thanking them for, then send the kudos again.")
        checked = _checked(reason)

        async def grant_of(work: Work) -> Grant:
            recipients = await self._recipients_of(work, event.message, event.message_author)
            if not recipients:
                raise UserError("I can't tell who wrote that message, so I can't thank them.")
            return Grant(
                recipients=recipients,
                reason=checked,
                values=tuple(values_in(reason)),
                source="message_action",
                source_key=event.message.key,
                conversation=event.message.conversation,
                message=event.message,
            )

        author = (event.message_author,) if event.message_author else ()
        return await self._give_and_summarise(event, grant_of, author)

    async def on_reaction(self, work: Work, event: ReactionChanged) -> None:
        """A reaction listener: runs inside the kernel's unit of work, the event claimed."""
        if event.reaction not in await self.reactions(work):
            return
        if not await work.claim(type(event).__name__):
            return  # a platform retry: applied before
        if not event.added:
            await self._take_back(work, event)
            return
        recipients = await self._recipients_of(work, event.message, event.message_author)
        if not recipients:
            return
        reason, values = await self._seconded(work, event.message)
        grant = Grant(
            recipients=recipients,
            reason=reason,
            values=values,
            source="reaction",
            source_key=event.message.key,
            conversation=event.message.conversation,
            message=event.message,
            reaction=event.reaction,
        )
        giver = await work.person(event.actor, event.actor_profile)
        outcome = await self._give(work, event, giver, grant)
        if outcome.refused:
            # A reaction has no reply: say privately why it didn't count.
            await work.send(
                f"event:{event.event_id}:notice",
                Outbound(
                    target=Private(user=giver.ref, conversation=event.message.conversation),
                    message=Message(text=rich(" ".join(outcome.refused))),
                ),
            )

    # ----- giving ---------------------------------------------------------------------

    async def _give_and_summarise(
        self,
        event: Event,
        grant: Grant | Callable[[Work], Awaitable[Grant]],
        likely: tuple[UserRef, ...] = (),
    ) -> Reply:
        """`likely`: the people a grant decided inside the unit of work will probably thank,
        so their profiles are looked up before it."""

        async def give(work: Work) -> Outcome:
            if not await work.claim(type(event).__name__):
                return Outcome(duplicate=True)
            giver = await work.person(event.actor, event.actor_profile)
            wanted = grant if isinstance(grant, Grant) else await grant(work)
            return await self._give(work, event, giver, wanted)

        people = grant.recipients if isinstance(grant, Grant) else likely
        if isinstance(grant, Grant):
            people += tuple(UserRef(event.workspace, m) for m in mentioned_ids(grant.reason))
        try:
            outcome = await self.s.run(event, give, people=people)
        except AlreadyDone:
            # A concurrent delivery of the same event or kudos won the race: it counted once.
            outcome = Outcome(duplicate=True)
        if outcome.duplicate:
            return Reply(message=Message(text=rich("Already done: that kudos was recorded.")))
        return Reply(
            message=say.giver_summary(
                outcome.given, outcome.refused, outcome.allowance, outcome.used
            )
        )

    async def _give(self, work: Work, event: Event, giver: Person, grant: Grant) -> Outcome:
        session, ws_id, now = work.session, work.ws_id, work.now
        mentioned = [UserRef(event.workspace, m) for m in mentioned_ids(grant.reason)]
        wanted = [*grant.recipients, *mentioned]
        people = await work.people(wanted, self.s.directory.hints(event.profiles, wanted))
        said = say.reason(grant.reason, event.workspace, {u.id: p.name for u, p in people.items()})
        outcome = Outcome()
        eligible: list[Person] = []
        for ref in grant.recipients:
            person = people[ref]
            if ref == giver.ref:
                outcome.refused.append(
                    "You can't give kudos to yourself, but thanks for the energy!"
                )
            elif person.is_bot:
                outcome.refused.append(f"{person.name} is a bot: kudos are for people.")
            else:
                eligible.append(person)
        if not eligible:
            return outcome
        # Everyone this kudos touches, locked in one order, so kudos in opposite directions
        # queue behind each other instead of deadlocking.
        await work.lock_members([giver.member_id, *(p.member_id for p in eligible)])

        outcome.allowance = await self._allowance(work)
        outcome.used, existing_by = await kudos_store.given_and_existing(
            session,
            ws_id,
            giver.member_id,
            calendar.day_start(now, giver.tz),
            grant.source_key,
            [p.member_id for p in eligible],
        )
        fresh: list[tuple[Person, Kudos | None]] = []
        for person in eligible:
            existing = existing_by.get(person.member_id)
            if existing is None or existing.revoked_at is not None:
                fresh.append((person, existing))
            elif grant.reaction and existing.source == "reaction":
                # Another kudos emoji on the same message: it holds the same kudos.
                await kudos_store.add_reaction(session, existing.id, grant.reaction)
            else:
                outcome.refused.append(f"You already thanked {person.name} for this.")

        if len(fresh) > outcome.allowance - outcome.used:
            resets = calendar.next_day_start(now, giver.tz)
            outcome.refused.append(
                say.allowance_used(outcome.allowance, outcome.used, len(fresh), now, resets)
            )
            fresh = []

        created: list[Kudos] = []
        for person, existing in fresh:
            row = existing or await kudos_store.add_kudos(
                session,
                workspace_id=ws_id,
                giver_id=giver.member_id,
                recipient_id=person.member_id,
                reason=grant.reason,
                source=grant.source,
                source_key=grant.source_key,
                conversation_id=grant.conversation.id if grant.conversation else None,
                message_id=grant.message.id if grant.message else None,
                message_link=grant.link,
                values=grant.values,
                now=now,
            )
            if grant.reaction:
                await kudos_store.add_reaction(session, row.id, grant.reaction)
            outcome.given.append(person)
            outcome.used += 1
            if existing is not None:
                # Given, taken back, now given again: restore it, without a second DM.
                await kudos_store.restore_kudos(session, existing, now)
                post = say.public_post(
                    giver, [person], said, grant.reaction, grant.link, ping=False
                )
                await self._edit_posts(work, event, row, post)
                values = tuple(await kudos_store.values_of(session, row.id))
            else:
                created.append(row)
                values = tuple(dict.fromkeys(grant.values))
                await work.send(
                    f"kudos:{row.id}:dm",
                    Outbound(
                        target=ToUser(user=person.ref),
                        message=say.recipient_dm(giver, said, grant.reaction, grant.link),
                    ),
                )
            # Recognition counts it in this same transaction, so counters and awards can never
            # disagree with the kudos themselves; a badge it earns is announced after the thanks.
            work.emit(
                KudosChanged(
                    workspace=event.workspace,
                    workspace_id=ws_id,
                    kudos_id=row.id,
                    giver=giver,
                    recipient=person,
                    values=values,
                    given_at=now,
                    delta=+1,
                    event_id=event.event_id,
                )
            )
        if created:
            await self._publish(work, event, giver, created, outcome, grant, said)
        return outcome

    async def allowance_left(self, work: Work, person: Person) -> tuple[int, int]:
        """(left today, daily allowance) for a giver, in their own day (the home view)."""
        allowance = await self._allowance(work)
        used = await kudos_store.active_given_since(
            work.session, person.member_id, calendar.day_start(work.now, person.tz)
        )
        return max(0, allowance - used), allowance

    async def _allowance(self, work: Work) -> int:
        settings = await work.settings()
        if settings is not None and settings.kudos_daily_allowance:
            return settings.kudos_daily_allowance
        return self.s.settings.kudos_daily_allowance

    async def _publish(
        self,
        work: Work,
        event: Event,
        giver: Person,
        created: list[Kudos],
        outcome: Outcome,
        grant: Grant,
        said: Rich,
    ) -> None:
        """A kudos given by command in a channel is thanked publicly there; every kudos is also
        announced in the workspace's kudos channel when one is configured. Both posts are keyed
        after the first kudos (`kudos:<id>:post`), so a reaction on them can second it and an
        edit can find them."""
        by_member = {p.member_id: p for p in outcome.given}
        recipients = [by_member[k.recipient_id] for k in created]
        first = created[0].id
        conv = grant.conversation
        places: list[tuple[str, ToConversation, bool]] = []
        if grant.source == "command" and conv is not None and conv.kind is ConversationKind.CHANNEL:
            places.append(
                ("post", ToConversation(conversation=conv, thread_id=grant.thread_id), True)
            )
        settings = await work.settings()
        channel = settings.kudos_channel if settings else None
        if channel and (conv is None or channel != conv.id):
            wall = ToConversation(conversation=ConversationRef(event.workspace, channel))
            places.append(("announce", wall, False))
        for kind, where, ping in places:
            key = f"kudos:{first}:{kind}"
            await work.send(
                key,
                Outbound(
                    target=where,
                    message=say.public_post(
                        giver, recipients, said, grant.reaction, grant.link, ping=ping
                    ),
                    key=key,
                ),
            )

    async def _recipients_of(
        self, work: Work, message: MessageRef, author: UserRef | None
    ) -> tuple[UserRef, ...]:
        """Whom a gesture on `message` thanks: its author or, on one of our kudos posts, the
        people that kudos thanked (so Teams, which only reports reactions on the bot's own
        posts, can second a kudos)."""
        rows = await self._kudos_behind(work, message)
        if rows:
            members = [await ws_store.get_member_by_id(work.session, r.recipient_id) for r in rows]
            return tuple(
                UserRef(message.conversation.workspace, m.external_id)
                for m in members
                if m is not None
            )
        return (author,) if author is not None else ()

    async def _seconded(self, work: Work, message: MessageRef) -> tuple[str, tuple[str, ...]]:
        """The reason and values of the kudos a bot post announced, or nothing."""
        rows = await self._kudos_behind(work, message)
        if not rows:
            return "", ()
        return rows[0].reason, tuple(await kudos_store.values_of(work.session, rows[0].id))

    async def _kudos_behind(self, work: Work, message: MessageRef) -> list[Kudos]:
        """The kudos one of our posts announced (its key is `kudos:<first id>:<kind>`); read once
        per unit of work."""
        cache_key = ("kudos_behind", message.key)
        cached = work.memo.get(cache_key)
        if cached is not None:
            return cast(list[Kudos], cached)
        rows: list[Kudos] = []
        post = await sent_store.sent_by_message(
            work.session, work.ws_id, message.conversation.id, message.id
        )
        match = _POST_KEY.fullmatch(post.key) if post is not None else None
        first = await kudos_store.get_kudos(work.session, int(match[1])) if match else None
        if first is not None:
            rows = await kudos_store.kudos_by_source(
                work.session, work.ws_id, first.source_key, giver_id=first.giver_id
            )
        work.memo[cache_key] = rows
        return rows

    # ----- taking back ----------------------------------------------------------------

    async def _take_back(self, work: Work, event: ReactionChanged) -> None:
        session, ws_id, now = work.session, work.ws_id, work.now
        giver = await work.person(event.actor, event.actor_profile)
        rows = await kudos_store.kudos_by_source(
            session, ws_id, event.message.key, giver_id=giver.member_id, source="reaction"
        )
        if rows:  # as when given: the people it touches, locked in one order
            await work.lock_members([giver.member_id, *(r.recipient_id for r in rows)])
        names: list[str] = []
        for row in rows:
            left = await kudos_store.remove_reaction(session, row.id, event.reaction)
            if left or row.revoked_at is not None:
                continue  # another kudos emoji still holds it
            row.revoked_at = now
            member = await ws_store.get_member_by_id(session, row.recipient_id)
            if member is None:
                continue
            recipient = self.s.directory.from_member(event.workspace, member)
            names.append(recipient.name)
            work.emit(
                KudosChanged(
                    workspace=event.workspace,
                    workspace_id=ws_id,
                    kudos_id=row.id,
                    giver=giver,
                    recipient=recipient,
                    values=tuple(await kudos_store.values_of(session, row.id)),
                    given_at=row.created_at,
                    delta=-1,
                    event_id=event.event_id,
                )
            )
            await self._edit_posts(work, event, row, say.taken_back(giver))
        if names:
            # Say so: removing a reaction must never change the record silently.
            await work.send(
                f"event:{event.event_id}:notice",
                Outbound(
                    target=Private(user=giver.ref, conversation=event.message.conversation),
                    message=say.took_back(names),
                ),
            )

    async def _edit_posts(self, work: Work, event: Event, row: Kudos, message: Message) -> None:
        """Rewrites the public posts of a kudos (taken back, or given again)."""
        for kind in ("post", "announce"):
            key = f"kudos:{row.id}:{kind}"
            if await work.was_queued(key):  # else it was never posted there
                await work.edit(key, message, because=event.event_id)

    # ----- settings and stats ---------------------------------------------------------

    async def reactions(self, work: Work) -> list[str]:
        """The workspace's kudos emoji (shared between units of work until `config` changes
        them), or the platform's defaults."""
        configured = await work.cached(("kudos_reactions", work.ws_id), partial(_reactions, work))
        if configured:
            return list(configured)
        return self.default_reactions(work.workspace.platform)

    def default_reactions(self, platform: Platform) -> list[str]:
        return list(
            self.s.capabilities(platform).default_reactions or self.s.settings.kudos_reactions
        )

    async def stats(self, event: CommandInvoked, args: str) -> Reply:
        ids = mentioned_ids(args)
        if args.strip() and not ids:
            raise UsageError("Usage: kudos stats [@person]  (mention the person with @)")
        subject_ref = UserRef(event.workspace, ids[0]) if ids else event.actor

        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            subject = await work.person(subject_ref) if ids else viewer
            today = calendar.day_start(work.now, viewer.tz)
            week_start = today - timedelta(days=today.weekday())
            st = await kudos_store.stats(
                work.session, subject.member_id, week_start, today.replace(day=1)
            )
            return Reply(message=say.stats(subject, viewer, st))

        return await self.s.run(event, read, people=[subject_ref])


_POST_KEY = re.compile(r"kudos:(\d+):(?:post|announce)")


async def _reactions(work: Work) -> tuple[str, ...]:
    return tuple(await ws_store.get_kudos_reactions(work.session, work.ws_id))


def _checked(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise UserError(
            f"That reason is {len(reason)} characters long; keep it under {MAX_REASON}."
        )
    return reason
