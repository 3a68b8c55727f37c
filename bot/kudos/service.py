"""Kudos: thanking people by command, reaction or message action, with fair-use rules.

Rules: no kudos to yourself or to bots; one kudos per giver per message; a daily allowance per
giver counted in the giver's own time zone; a replayed delivery never counts twice (the event id
is claimed in the same transaction that records the kudos and queues its messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked, Event, MessageActionInvoked, ReactionChanged
from bot.ids import ConversationKind, ConversationRef, MessageRef, UserRef
from bot.kudos import messages as say
from bot.messages import Edit, Message, Outbound, Private, Reply, Rich, ToConversation, ToUser, rich
from bot.services import KudosChange, Services
from bot.text import MENTION, mentioned_ids, values_in
from store import DuplicateError
from store import events as event_store
from store import jobs as job_store
from store import kudos as kudos_store
from store import sent as sent_store
from store import workspaces as ws_store
from store.models import Kudos

MAX_REASON = 1000
USAGE = "@person [@person ...] what you're thanking them for [#value ...]"
EXAMPLES = ("kudos @ana thanks for the demo #teamwork", "kudos stats @ana")


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


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def next_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    # Add a calendar day to the local date, not 24 hours, so midnight stays right across DST.
    local = day_start(now, tz)
    return (local.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)


class KudosService:
    def __init__(self, services: Services) -> None:
        self.s = services

    # ----- entry points ---------------------------------------------------------------

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        head, _, rest = args.strip().partition(" ")
        if head.lower() == "stats":
            return await self.stats(event, rest)
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
        recipients = await self._recipients_of(event.message, event.message_author)
        if not recipients:
            raise UserError("I can't tell who wrote that message, so I can't thank them.")
        grant = Grant(
            recipients=recipients,
            reason=_checked(reason),
            values=tuple(values_in(reason)),
            source="message_action",
            source_key=event.message.key,
            conversation=event.message.conversation,
            message=event.message,
        )
        return await self._give_and_summarise(event, grant)

    async def on_reaction(self, event: ReactionChanged) -> None:
        if event.reaction not in await self.reactions(event):
            return
        if not event.added:
            await self._take_back(event)
            return
        recipients = await self._recipients_of(event.message, event.message_author)
        if not recipients:
            return
        reason, values = await self._seconded(event.message)
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
        giver = await self.s.directory.person(event.actor, event.actor_profile)
        outcome = await self._give(event, giver, grant)
        if outcome.refused and not outcome.duplicate:
            # A reaction has no reply: say privately why it didn't count.
            await self._queue(
                event,
                f"event:{event.event_id}:notice",
                Outbound(
                    target=Private(user=giver.ref, conversation=event.message.conversation),
                    message=Message(text=rich(" ".join(outcome.refused))),
                ),
            )

    # ----- giving ---------------------------------------------------------------------

    async def _give_and_summarise(self, event: Event, grant: Grant) -> Reply:
        giver = await self.s.directory.person(event.actor, event.actor_profile)
        outcome = await self._give(event, giver, grant)
        if outcome.duplicate:
            return Reply(message=Message(text=rich("Already done: that kudos was recorded.")))
        return Reply(
            message=say.giver_summary(
                outcome.given, outcome.refused, outcome.allowance, outcome.used
            )
        )

    async def _give(self, event: Event, giver: Person, grant: Grant) -> Outcome:
        directory = self.s.directory
        mentioned = [UserRef(event.workspace, m) for m in mentioned_ids(grant.reason)]
        wanted = [*grant.recipients, *mentioned]
        people = await directory.people(wanted, directory.hints(event.profiles, wanted))
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

        ws_id = await directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        try:
            async with self.s.db.transaction() as session:
                if not await event_store.claim_event(
                    session, ws_id, event.event_id, type(event).__name__, now
                ):
                    outcome.duplicate = True
                    return outcome
                outcome.allowance = await self._allowance(session, ws_id)
                outcome.used = await kudos_store.active_given_since(
                    session, giver.member_id, day_start(now, giver.tz)
                )
                fresh: list[tuple[Person, Kudos | None]] = []
                for person in eligible:
                    existing = await kudos_store.find_kudos(
                        session, ws_id, giver.member_id, person.member_id, grant.source_key
                    )
                    if existing is None or existing.revoked_at is not None:
                        fresh.append((person, existing))
                    elif grant.reaction and existing.source == "reaction":
                        # Another kudos emoji on the same message: it holds the same kudos.
                        await kudos_store.add_reaction(session, existing.id, grant.reaction)
                    else:
                        outcome.refused.append(f"You already thanked {person.name} for this.")

                if len(fresh) > outcome.allowance - outcome.used:
                    resets = next_day_start(now, giver.tz)
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
                        existing.revoked_at, existing.created_at = None, now
                        post = say.public_post(
                            giver, [person], said, grant.reaction, grant.link, ping=False
                        )
                        await self._edit_posts(session, event, ws_id, row, post)
                    else:
                        created.append(row)
                        await self.s.delivery.send(
                            session,
                            event.workspace,
                            ws_id,
                            f"kudos:{row.id}:dm",
                            Outbound(
                                target=ToUser(user=person.ref),
                                message=say.recipient_dm(giver, said, grant.reaction, grant.link),
                            ),
                        )
                    # After the thanks is queued, so a badge it earns is announced after it.
                    await self._changed(session, event, ws_id, row, giver, person, +1, now)
                if created:
                    await self._publish(session, event, ws_id, giver, created, outcome, grant, said)
        except DuplicateError:
            # A concurrent delivery of the same event or kudos won the race: it counted once.
            return Outcome(duplicate=True)
        finally:
            self.s.scheduler.wake()
        return outcome

    async def _changed(
        self,
        session: AsyncSession,
        event: Event,
        ws_id: int,
        row: Kudos,
        giver: Person,
        recipient: Person,
        delta: int,
        given_at: datetime,
    ) -> None:
        """Tells listeners (recognition) about a kudos counted or taken back, in this
        transaction, so counters and awards can never disagree with the kudos themselves."""
        if not self.s.kudos_listeners:
            return
        change = KudosChange(
            workspace=event.workspace,
            workspace_id=ws_id,
            kudos_id=row.id,
            giver=giver,
            recipient=recipient,
            values=tuple(await kudos_store.values_of(session, row.id)),
            given_at=given_at,
            delta=delta,
            event_id=event.event_id,
        )
        for listener in self.s.kudos_listeners:
            await listener(session, change)

    async def allowance_left(self, person: Person) -> tuple[int, int]:
        """(left today, daily allowance) for a giver, in their own day."""
        ws_id = await self.s.directory.workspace_id(person.ref.workspace)
        now = self.s.clock.now()
        async with self.s.db.transaction() as session:
            allowance = await self._allowance(session, ws_id)
            used = await kudos_store.active_given_since(
                session, person.member_id, day_start(now, person.tz)
            )
        return max(0, allowance - used), allowance

    async def _allowance(self, session: AsyncSession, ws_id: int) -> int:
        settings = await ws_store.get_settings(session, ws_id)
        if settings is not None and settings.kudos_daily_allowance:
            return settings.kudos_daily_allowance
        return self.s.settings.kudos_daily_allowance

    async def _publish(
        self,
        session: AsyncSession,
        event: Event,
        ws_id: int,
        giver: Person,
        created: list[Kudos],
        outcome: Outcome,
        grant: Grant,
        said: Rich,
    ) -> None:
        """A kudos given by command in a channel is thanked publicly there; every kudos is also
        announced in the workspace's kudos channel when one is configured. Both posts are named
        after the first kudos so a reaction on them can second it, and an edit can find them."""
        by_member = {p.member_id: p for p in outcome.given}
        recipients = [by_member[k.recipient_id] for k in created]
        first = created[0].id
        conv = grant.conversation
        places: list[tuple[str, ToConversation, bool]] = []
        if grant.source == "command" and conv is not None and conv.kind is ConversationKind.CHANNEL:
            places.append(
                ("post", ToConversation(conversation=conv, thread_id=grant.thread_id), True)
            )
        settings = await ws_store.get_settings(session, ws_id)
        channel = settings.kudos_channel if settings else None
        if channel and (conv is None or channel != conv.id):
            wall = ToConversation(conversation=ConversationRef(event.workspace, channel))
            places.append(("announce", wall, False))
        for kind, where, ping in places:
            key = f"kudos:{first}:{kind}"
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                key,
                Outbound(
                    target=where,
                    message=say.public_post(
                        giver, recipients, said, grant.reaction, grant.link, ping=ping
                    ),
                    key=key,
                    kudos_id=first,
                ),
            )

    async def _recipients_of(
        self, message: MessageRef, author: UserRef | None
    ) -> tuple[UserRef, ...]:
        """Whom a gesture on `message` thanks: its author or, on one of our kudos posts, the
        people that kudos thanked (so Teams, which only reports reactions on the bot's own
        posts, can second a kudos)."""
        workspace = message.conversation.workspace
        ws_id = await self.s.directory.workspace_id(workspace)
        async with self.s.db.transaction() as session:
            rows = await self._kudos_behind(session, ws_id, message)
            if rows:
                members = [await ws_store.get_member_by_id(session, r.recipient_id) for r in rows]
                return tuple(UserRef(workspace, m.external_id) for m in members if m is not None)
        return (author,) if author is not None else ()

    async def _seconded(self, message: MessageRef) -> tuple[str, tuple[str, ...]]:
        """The reason and values of the kudos a bot post announced, or nothing."""
        ws_id = await self.s.directory.workspace_id(message.conversation.workspace)
        async with self.s.db.transaction() as session:
            rows = await self._kudos_behind(session, ws_id, message)
            if not rows:
                return "", ()
            return rows[0].reason, tuple(await kudos_store.values_of(session, rows[0].id))

    async def _kudos_behind(
        self, session: AsyncSession, ws_id: int, message: MessageRef
    ) -> list[Kudos]:
        post = await sent_store.sent_by_message(session, ws_id, message.conversation.id, message.id)
        if post is None or post.kudos_id is None:
            return []
        first = await kudos_store.get_kudos(session, post.kudos_id)
        if first is None:
            return []
        return await kudos_store.kudos_by_source(
            session, ws_id, first.source_key, giver_id=first.giver_id
        )

    # ----- taking back ----------------------------------------------------------------

    async def _take_back(self, event: ReactionChanged) -> None:
        giver = await self.s.directory.person(event.actor, event.actor_profile)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        try:
            async with self.s.db.transaction() as session:
                if not await event_store.claim_event(
                    session, ws_id, event.event_id, "ReactionRemoved", now
                ):
                    return
                rows = await kudos_store.kudos_by_source(
                    session, ws_id, event.message.key, giver_id=giver.member_id, source="reaction"
                )
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
                    await self._changed(
                        session, event, ws_id, row, giver, recipient, -1, row.created_at
                    )
                    await self._edit_posts(session, event, ws_id, row, say.taken_back(giver))
                if names:
                    # Say so: removing a reaction must never change the record silently.
                    await self.s.delivery.send(
                        session,
                        event.workspace,
                        ws_id,
                        f"event:{event.event_id}:notice",
                        Outbound(
                            target=Private(user=giver.ref, conversation=event.message.conversation),
                            message=say.took_back(names),
                        ),
                    )
        except DuplicateError:
            return
        finally:
            self.s.scheduler.wake()

    async def _edit_posts(
        self, session: AsyncSession, event: Event, ws_id: int, row: Kudos, message: Message
    ) -> None:
        """Rewrites the public posts of a kudos (taken back, or given again)."""
        for kind in ("post", "announce"):
            key = f"kudos:{row.id}:{kind}"
            if await job_store.get_job(session, ws_id, f"deliver:{key}") is None:
                continue  # it was never posted there
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"{key}:edit:{event.event_id}",
                Edit(key=key, message=message),
            )

    async def _queue(self, event: Event, key: str, item: Outbound) -> None:
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            await self.s.delivery.send(session, event.workspace, ws_id, key, item)
        self.s.scheduler.wake()

    # ----- settings and stats ---------------------------------------------------------

    async def reactions(self, event: Event) -> list[str]:
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            configured = await ws_store.get_kudos_reactions(session, ws_id)
        if configured:
            return configured
        if event.workspace.platform == "teams":
            return list(self.s.settings.teams_kudos_reactions)
        return list(self.s.settings.kudos_reactions)

    async def stats(self, event: CommandInvoked, args: str) -> Reply:
        ids = mentioned_ids(args)
        if args.strip() and not ids:
            raise UsageError("Usage: kudos stats [@person]  (mention the person with @)")
        viewer = await self.s.directory.person(event.actor, event.actor_profile)
        subject = viewer
        if ids:
            subject = await self.s.directory.person(UserRef(event.workspace, ids[0]))
        now = self.s.clock.now()
        today = day_start(now, viewer.tz)
        week_start = today - timedelta(days=today.weekday())
        async with self.s.db.transaction() as session:
            st = await kudos_store.stats(
                session, subject.member_id, week_start, today.replace(day=1)
            )
        return Reply(message=say.stats(subject, viewer, st))


def _checked(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise UserError(
            f"That reason is {len(reason)} characters long; keep it under {MAX_REASON}."
        )
    return reason
