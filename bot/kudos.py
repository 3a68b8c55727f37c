"""Kudos: thanking people by command, reaction or message action, with fair-use rules.

Rules: no kudos to yourself or to bots; one kudos per giver per message; a daily allowance per
giver counted in the giver's own time zone; a replayed delivery never counts twice.
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
from bot.messages import (
    Card,
    CardField,
    Edit,
    Link,
    Mention,
    Message,
    Name,
    Outbound,
    Private,
    Reply,
    Rich,
    Section,
    Strong,
    ToConversation,
    ToUser,
    rich,
)
from bot.services import Services
from bot.text import MENTION, mentioned_ids, user_text, values_in
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


@dataclass
class Outcome:
    given: list[Person] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence per refusal
    used: int = 0
    allowance: int = 0
    resets_at: datetime | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """One attempt to thank people, whatever the platform gesture."""

    recipients: tuple[UserRef, ...]
    reason: str
    values: tuple[str, ...]
    source: str  # command | reaction | message_action
    source_key: str
    conversation: ConversationRef | None
    message: MessageRef | None = None
    reaction: str | None = None


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
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def next_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    # Adding a day to the local date (not 24 h) keeps midnight right across DST changes.
    local = day_start(now, tz)
    return (local + timedelta(days=1)).replace(tzinfo=tz)


def _until(now: datetime, then: datetime) -> str:
    minutes = max(1, int((then - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class KudosService:
    def __init__(self, services: Services) -> None:
        self.s = services

    # ----- entry points -------------------------------------------------------------------

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
        if not reason.strip():
            raise UsageError(
                "Say what you're thanking them for: that is what makes kudos mean something.\n"
                f"Example: {prefix}{EXAMPLES[0]}"
            )
        self._check_reason(reason)
        grant = Grant(
            recipients=tuple(UserRef(event.workspace, r) for r in recipient_ids),
            reason=reason,
            values=tuple(values_in(reason)),
            source="command",
            source_key=f"cmd:{event.event_id}",
            conversation=event.conversation,
        )
        giver = await self.s.directory.person(event.actor, event.actor_profile)
        outcome = await self._give(event, giver, grant)
        return Reply(message=self._giver_summary(outcome, event))

    async def on_message_action(self, event: MessageActionInvoked) -> Reply:
        reason = (event.inputs.get("reason") or "").strip()
        if not reason:
            raise UserError("Say what you're thanking them for, then send the kudos again.")
        self._check_reason(reason)
        recipients = await self._recipients_of(event.message, event.message_author)
        if not recipients:
            raise UserError("I can't tell who wrote that message, so I can't thank them.")
        grant = Grant(
            recipients=recipients,
            reason=reason,
            values=tuple(values_in(reason)),
            source="message_action",
            source_key=event.message.key,
            conversation=event.message.conversation,
            message=event.message,
        )
        giver = await self.s.directory.person(event.actor, event.actor_profile)
        outcome = await self._give(event, giver, grant)
        return Reply(message=self._giver_summary(outcome, event))

    async def on_reaction(self, event: ReactionChanged) -> None:
        if event.reaction not in await self.reactions(event):
            return
        if event.added:
            recipients = await self._recipients_of(event.message, event.message_author)
            if not recipients:
                return
            reason, values = "", list[str]()
            original = await self._bot_post_kudos(event.message)
            if original is not None:  # a reaction on our kudos post seconds that kudos
                reason, values = original
            grant = Grant(
                recipients=recipients,
                reason=reason,
                values=tuple(values),
                source="reaction",
                source_key=event.message.key,
                conversation=event.message.conversation,
                message=event.message,
                reaction=event.reaction,
            )
            giver = await self.s.directory.person(event.actor, event.actor_profile)
            outcome = await self._give(event, giver, grant)
            if outcome.refused and not outcome.duplicate:
                await self._notice(event, giver, event.message.conversation, outcome)
        else:
            await self._take_back(event)

    # ----- giving ---------------------------------------------------------------------------

    async def _give(self, event: Event, giver: Person, grant: Grant) -> Outcome:
        people = await self.s.directory.people(
            grant.recipients, self.s.directory.hints(event.profiles, grant.recipients)
        )
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

        ws_id = await self.s.directory.workspace_id(event.workspace)
        now = self.s.clock.now()
        created: list[Kudos] = []
        try:
            async with self.s.db.transaction() as session:
                if not await event_store.claim_event(
                    session, ws_id, event.event_id, type(event).__name__, now
                ):
                    outcome.duplicate = True
                    return outcome
                settings = await ws_store.get_settings(session, ws_id)
                allowance = (
                    settings.kudos_daily_allowance
                    if settings and settings.kudos_daily_allowance
                    else self.s.settings.kudos_daily_allowance
                )
                since = day_start(now, giver.tz)
                outcome.allowance = allowance
                outcome.used = await kudos_store.active_given_since(session, giver.member_id, since)
                outcome.resets_at = next_day_start(now, giver.tz)

                fresh: list[tuple[Person, Kudos | None]] = []
                for person in eligible:
                    existing = await kudos_store.find_kudos(
                        session, ws_id, giver.member_id, person.member_id, grant.source_key
                    )
                    if existing is not None and existing.revoked_at is None:
                        if grant.reaction and existing.source == "reaction":
                            await kudos_store.add_reaction(session, existing.id, grant.reaction)
                        else:
                            outcome.refused.append(f"You already thanked {person.name} for this.")
                        continue
                    fresh.append((person, existing))

                left = allowance - outcome.used
                if fresh and len(fresh) > left:
                    outcome.refused.append(self._allowance_text(outcome, now, len(fresh)))
                    fresh = []

                for person, existing in fresh:
                    if existing is not None:  # given earlier, taken back, now given again
                        existing.revoked_at = None
                        existing.created_at = now
                        row = existing
                    else:
                        row = await kudos_store.add_kudos(
                            session,
                            workspace_id=ws_id,
                            giver_id=giver.member_id,
                            recipient_id=person.member_id,
                            reason=grant.reason,
                            source=grant.source,
                            source_key=grant.source_key,
                            conversation_id=grant.conversation.id if grant.conversation else None,
                            message_id=grant.message.id if grant.message else None,
                            message_link=grant.message.link if grant.message else None,
                            values=grant.values,
                            now=now,
                        )
                    if grant.reaction:
                        await kudos_store.add_reaction(session, row.id, grant.reaction)
                    outcome.given.append(person)
                    outcome.used += 1
                    if existing is None:
                        created.append(row)
                        await self._dm_recipient(session, event, ws_id, giver, person, row, grant)
                    else:
                        again = self._public_post(giver, [person], grant, ping=False)
                        await self._edit_posts(session, event, ws_id, row, again)
                if created:
                    await self._publish(session, event, ws_id, giver, created, people, grant)
        except DuplicateError:
            # A concurrent delivery of the same event or kudos won the race: it counted once.
            return Outcome(duplicate=True)
        finally:
            self.s.scheduler.wake()
        return outcome

    async def _recipients_of(
        self, message: MessageRef, author: UserRef | None
    ) -> tuple[UserRef, ...]:
        """Whom a gesture on `message` thanks: its author, or for one of our kudos posts, the
        people that kudos thanked (so Teams, which only reports reactions on the bot's own
        posts, can second a kudos)."""
        ws_id = await self.s.directory.workspace_id(message.conversation.workspace)
        async with self.s.db.transaction() as session:
            post = await sent_store.sent_by_message(
                session, ws_id, message.conversation.id, message.id
            )
            if post is not None and post.kudos_id is not None:
                first = await kudos_store.get_kudos(session, post.kudos_id)
                if first is not None:
                    rows = await kudos_store.kudos_by_source(
                        session, ws_id, first.source_key, giver_id=first.giver_id
                    )
                    members = [
                        await ws_store.get_member_by_id(session, r.recipient_id) for r in rows
                    ]
                    return tuple(
                        UserRef(message.conversation.workspace, m.external_id)
                        for m in members
                        if m is not None
                    )
        return (author,) if author is not None else ()

    async def _bot_post_kudos(self, message: MessageRef) -> tuple[str, list[str]] | None:
        ws_id = await self.s.directory.workspace_id(message.conversation.workspace)
        async with self.s.db.transaction() as session:
            post = await sent_store.sent_by_message(
                session, ws_id, message.conversation.id, message.id
            )
            if post is None or post.kudos_id is None:
                return None
            first = await kudos_store.get_kudos(session, post.kudos_id)
            if first is None:
                return None
            return first.reason, await kudos_store.values_of(session, first.id)

    # ----- taking back ----------------------------------------------------------------------

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
                    session,
                    ws_id,
                    event.message.key,
                    giver_id=giver.member_id,
                    source="reaction",
                )
                taken_from: list[str] = []
                for row in rows:
                    left = await kudos_store.remove_reaction(session, row.id, event.reaction)
                    if left == 0 and row.revoked_at is None:
                        row.revoked_at = now
                        recipient = await ws_store.get_member_by_id(session, row.recipient_id)
                        if recipient is not None:
                            taken_from.append(recipient.display_name or recipient.external_id)
                        taken_back = rich(
                            "Kudos taken back: ",
                            Name(user=giver.ref, name=giver.name),
                            " removed their reaction.",
                        )
                        await self._edit_posts(session, event, ws_id, row, Message(text=taken_back))
                if taken_from:
                    # Say so, so that removing a reaction never silently changes the record.
                    await self.s.delivery.send(
                        session,
                        event.workspace,
                        ws_id,
                        f"event:{event.event_id}:notice",
                        Outbound(
                            target=Private(user=giver.ref, conversation=event.message.conversation),
                            message=Message(
                                text=rich(f"You took back your kudos to {', '.join(taken_from)}.")
                            ),
                        ),
                    )
        except DuplicateError:
            return
        finally:
            self.s.scheduler.wake()

    # ----- messages -------------------------------------------------------------------------

    async def _dm_recipient(
        self,
        session: AsyncSession,
        event: Event,
        ws_id: int,
        giver: Person,
        person: Person,
        row: Kudos,
        grant: Grant,
    ) -> None:
        text = rich("🎉 ", Name(user=giver.ref, name=giver.name), " gave you kudos")
        text += self._what_for(grant, person)
        if grant.message and grant.message.link:
            text += rich(" ", Link(url=grant.message.link, label="See the message"))
        await self.s.delivery.send(
            session,
            event.workspace,
            ws_id,
            f"kudos:{row.id}:dm",
            Outbound(target=ToUser(user=person.ref), message=Message(text=text)),
        )

    def _what_for(self, grant: Grant, person: Person) -> Rich:
        if grant.reason:
            return rich(": “", *self._user_text(grant.reason, person), "”")
        if grant.reaction:
            return rich(f" with :{grant.reaction}: on your message")
        return ()

    def _user_text(self, text: str, person: Person) -> Rich:
        names: dict[UserRef, str] = {}

        def name_of(user: UserRef) -> str:
            return names.get(user, user.id)

        return user_text(text, person.ref.workspace, name_of)

    async def _publish(
        self,
        session: AsyncSession,
        event: Event,
        ws_id: int,
        giver: Person,
        created: list[Kudos],
        people: dict[UserRef, Person],
        grant: Grant,
    ) -> None:
        """A kudos given by command in a channel is thanked publicly there; every kudos is also
        announced in the workspace's kudos channel when one is configured."""
        by_member = {p.member_id: p for p in people.values()}
        recipients = [by_member[k.recipient_id] for k in created]
        first = created[0]
        conv = grant.conversation
        if grant.source == "command" and conv is not None and conv.kind is ConversationKind.CHANNEL:
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"kudos:{first.id}:post",
                Outbound(
                    target=ToConversation(conversation=conv),
                    message=self._public_post(giver, recipients, grant, ping=True),
                    key=f"kudos:{first.id}:post",
                    kudos_id=first.id,
                ),
            )
        channel = await self._kudos_channel(session, ws_id)
        if channel and (conv is None or channel != conv.id):
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"kudos:{first.id}:announce",
                Outbound(
                    target=ToConversation(conversation=ConversationRef(event.workspace, channel)),
                    message=self._public_post(giver, recipients, grant, ping=False),
                    key=f"kudos:{first.id}:announce",
                    kudos_id=first.id,
                ),
            )

    def _public_post(
        self, giver: Person, recipients: list[Person], grant: Grant, *, ping: bool
    ) -> Message:
        names: list[Mention | Name] = [
            Mention(user=p.ref, name=p.name) if ping else Name(user=p.ref, name=p.name)
            for p in recipients
        ]
        who: list[str | Mention | Name] = []
        for i, n in enumerate(names):
            if i:
                who.append(" and " if i == len(names) - 1 else ", ")
            who.append(n)
        text = rich("🎉 ", Name(user=giver.ref, name=giver.name), " gave kudos to ", *who)
        if grant.reason:
            text += rich(": “", *self._user_text(grant.reason, recipients[0]), "”")
        elif grant.reaction:
            text += rich(f" with :{grant.reaction}:")
        if grant.message and grant.message.link:
            text += rich(" ", Link(url=grant.message.link, label="(message)"))
        return Message(text=text)

    async def _kudos_channel(self, session: AsyncSession, ws_id: int) -> str | None:
        settings = await ws_store.get_settings(session, ws_id)
        return settings.kudos_channel if settings else None

    async def _edit_posts(
        self, session: AsyncSession, event: Event, ws_id: int, row: Kudos, message: Message
    ) -> None:
        """Rewrites the public posts of a kudos (taken back, or given again)."""
        for kind in ("post", "announce"):
            key = f"kudos:{row.id}:{kind}"
            if await job_store.get_job(session, ws_id, f"deliver:{key}") is None:
                continue  # never posted there
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"{key}:edit:{event.event_id}",
                Edit(key=key, message=message),
            )

    async def _notice(
        self, event: Event, giver: Person, conversation: ConversationRef, outcome: Outcome
    ) -> None:
        """Tells someone privately why their gesture did not count."""
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            await self.s.delivery.send(
                session,
                event.workspace,
                ws_id,
                f"event:{event.event_id}:notice",
                Outbound(
                    target=Private(user=giver.ref, conversation=conversation),
                    message=Message(text=rich(" ".join(outcome.refused))),
                ),
            )
        self.s.scheduler.wake()

    def _allowance_text(self, outcome: Outcome, now: datetime, wanted: int) -> str:
        assert outcome.resets_at is not None
        left = outcome.allowance - outcome.used
        when = outcome.resets_at.strftime("%H:%M")
        zone = outcome.resets_at.tzname() or "your time"
        resets = f"It resets at {when} {zone} (in {_until(now, outcome.resets_at)})."
        if left <= 0:
            return (
                f"You've used all {outcome.allowance} kudos you can give today, so this one "
                f"didn't count. {resets}"
            )
        return (
            f"You have {left} kudos left today but named {wanted} people; nothing was sent. "
            f"Thank fewer people now, or the rest after the reset. {resets}"
        )

    def _giver_summary(self, outcome: Outcome, event: Event) -> Message:
        if outcome.duplicate:
            return Message(text=rich("Already done: that kudos was recorded."))
        lines: list[Rich] = []
        if outcome.given:
            who: list[str | Name] = []
            for i, p in enumerate(outcome.given):
                if i:
                    who.append(" and " if i == len(outcome.given) - 1 else ", ")
                who.append(Name(user=p.ref, name=p.name))
            left = max(0, outcome.allowance - outcome.used)
            lines.append(
                rich(
                    "✅ Kudos sent to ",
                    *who,
                    f". You have {left} of {outcome.allowance} left today.",
                )
            )
        lines += [rich(r) for r in outcome.refused]
        if not lines:
            lines.append(rich("Nothing to do."))
        text: Rich = ()
        for i, line in enumerate(lines):
            text += (rich("\n") if i else ()) + line
        return Message(text=text)

    def _check_reason(self, reason: str) -> None:
        if len(reason) > MAX_REASON:
            raise UserError(
                f"That reason is {len(reason)} characters long; keep it under {MAX_REASON}."
            )

    # ----- settings and stats ---------------------------------------------------------------

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
        subject = (
            viewer if not ids else await self.s.directory.person(UserRef(event.workspace, ids[0]))
        )
        now = self.s.clock.now()
        today = day_start(now, viewer.tz)
        week_start = today - timedelta(days=today.weekday())
        month_start = today.replace(day=1)
        async with self.s.db.transaction() as session:
            st = await kudos_store.stats(session, subject.member_id, week_start, month_start)
        whose = "Your" if subject.ref == viewer.ref else f"{subject.name}'s"
        fields = (
            CardField(
                label="Received",
                value=rich(
                    f"{st.received.week} this week · {st.received.month} this month · "
                    f"{st.received.all_time} all time"
                ),
            ),
            CardField(
                label="Given",
                value=rich(
                    f"{st.given.week} this week · {st.given.month} this month · "
                    f"{st.given.all_time} all time"
                ),
            ),
        )
        text = rich(
            Strong(text=f"{whose} kudos"),
            f" received: {st.received.week} this week, {st.received.month} this month, "
            f"{st.received.all_time} all time; given: {st.given.week} this week, "
            f"{st.given.month} this month, {st.given.all_time} all time.",
        )
        return Reply(
            message=Message(
                text=text,
                card=Card(
                    title=f"{whose} kudos",
                    sections=(Section(fields=fields),),
                    context=rich(f"Weeks start on Monday, {viewer.tz.key} time."),
                ),
            )
        )
