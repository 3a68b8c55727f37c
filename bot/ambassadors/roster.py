"""The roster: joining by request ("pull, not push"), the community managers' approval card,
adding and removing, leaving, the role's expectations with an "I'm in", profiles, interests
and the names-only lists.

Each change is one unit of work that records it, tells the people concerned, rewrites the
review cards and keeps office coverage right (coverage.refresh), so nothing is half-written.
"""

from __future__ import annotations

from datetime import datetime

from bot.ambassadors import messages as say
from bot.ambassadors import rules
from bot.ambassadors.coverage import Coverage
from bot.ambassadors.offices import find as find_office
from bot.ambassadors.program import Program
from bot.ambassadors.rules import AMBASSADOR
from bot.ambassadors.training import Training
from bot.args import split_args
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import Event
from bot.ids import UserRef
from bot.messages import Message, Reply, rich
from bot.routing import availability
from bot.services import Services
from bot.text import MENTION, mentioned_ids
from bot.work import AlreadyDone, Work
from store import ambassadors as amb_store
from store import routing as routing_store
from store.models import AmbassadorOffice, AmbassadorPerson

MAX_USER_ID = 200  # members.external_id


def join_key(member_id: int, requested_at: datetime) -> str:
    return f"ambassadors:join:{member_id}:{int(requested_at.timestamp())}"


def welcome_key(member_id: int, joined_at: datetime) -> str:
    return f"ambassadors:welcome:{member_id}:{int(joined_at.timestamp())}"


def _one_person(event: Event, text: str, usage: str) -> tuple[UserRef, str]:
    """The one @person in `text`, and the rest of it."""
    ids = mentioned_ids(text)
    if len(ids) != 1:
        raise UsageError(f"Name one @person, e.g. {usage}")
    return UserRef(event.workspace, ids[0]), MENTION.sub(" ", text).strip()


class Roster:
    def __init__(
        self, services: Services, program: Program, coverage: Coverage, training: Training
    ) -> None:
        self.s = services
        self.p = program
        self.coverage = coverage
        self.training = training

    def ref_of(self, event: Event, token: str) -> UserRef:
        """The person a review card's button or form names (their platform id), checked: a
        value that can't be an id (empty, too long, spaces or control characters) is refused
        before anything is read."""
        value = token.strip()
        readable = all(c.isprintable() and not c.isspace() for c in value)
        if not value or len(value) > MAX_USER_ID or not readable:
            raise UserError(
                "That card names nobody I know here; use ambassador approve @person or "
                "ambassador decline @person “reason”."
            )
        return UserRef(event.workspace, value)

    async def _someone(self, work: Work, event: Event, ref: UserRef) -> Person:
        person = await work.person(ref, event.profiles.get(ref.id))
        if person.is_bot:
            raise UserError(f"{person.name} is a bot; the program is for people.")
        return person

    async def _view(
        self, work: Work, person: Person, row: AmbassadorPerson, outcome: str | None = None
    ) -> say.JoinView:
        office = await work.session.get(AmbassadorOffice, row.office_id) if row.office_id else None
        member = (await amb_store.members_by_id(work.session, [person.member_id]))[person.member_id]
        return say.JoinView(
            user_id=person.ref.id,
            name=person.name,
            office=office.name if office else None,
            team=member.team,
            why=row.why,
            interests=row.interests,
            outcome=outcome,
        )

    # ----- joining --------------------------------------------------------------------------

    async def join(self, event: Event, rest: str) -> Reply:
        words = split_args(rest)
        # A lone quoted phrase is the reason, unless an office is called that.
        lone_reason = len(words) == 1 and rules.starts_quoted(rest)

        async def join(work: Work) -> tuple[str, int]:
            actor = await self.p.actor(work, event)
            if actor.is_bot:
                raise UserError("Bots can't join the program.")
            row = await amb_store.person(work.session, actor.member_id)
            tz = actor.tz
            if row is not None and row.status == amb_store.ACTIVE and row.joined_at:
                raise UserError(
                    f"You're already an ambassador (since {say.day(row.joined_at, tz)}); "
                    "ambassador profile shows your details."
                )
            if row is not None and row.status == amb_store.PENDING and row.requested_at:
                raise UserError(
                    f"You already asked to join on {say.day(row.requested_at, tz)}; the "
                    "community managers will answer, and I'll tell you."
                )
            office_id = row.office_id if row else None
            why = words[1:]
            if words:
                found = await amb_store.office(work.session, work.ws_id, words[0])
                if found is not None:
                    office_id = found.id
                elif lone_reason:
                    why = words
                else:
                    office_id = (await find_office(work, words[0])).id
            offices = [o.name for o in await amb_store.offices(work.session, work.ws_id)]
            if office_id is None and offices:  # coverage is per office: say which
                raise UsageError(
                    f"Which office do you work from? e.g. ambassador join {offices[0]} "
                    f"“why I want to” (offices: {', '.join(offices)})."
                )
            reason = rules.checked_text(" ".join(why), "reason", rules.MAX_WHY)
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row = await amb_store.person_row(work.session, work.ws_id, actor.member_id, work.now)
            row.status, row.why, row.office_id = amb_store.PENDING, reason, office_id
            row.requested_at, row.note, row.decided_by = work.now, None, None
            view = await self._view(work, actor, row)
            told = await self.p.to_managers(
                work, join_key(actor.member_id, work.now), say.join_card(view)
            )
            return (await self.p.config(work)).expectations, told

        expectations, told = await self.s.run(event, join)
        who = (
            "the community managers"
            if told
            else "nobody yet: there is no community manager (an admin adds one with role add "
            "@person community-manager)"
        )
        return Reply(
            message=Message(
                text=rich(
                    f"🙋 Thanks! I sent your request to {who}; I'll tell you their answer.\n"
                    "What the role asks: ",
                    expectations,
                    "\nOnce you're approved, I'll ask you to confirm with I'm in.",
                )
            )
        )

    # ----- deciding -------------------------------------------------------------------------

    async def decide(self, event: Event, ref: UserRef, approve: bool, reason: str | None) -> Reply:
        if not approve and not reason:
            raise UsageError(
                "Declining needs a reason for them, e.g. ambassador decline @bo “we're full "
                "in Paris this quarter”"
            )

        async def decide(work: Work) -> str:
            actor = await self.p.manager(work, event)
            target = await self._someone(work, event, ref)
            row = await amb_store.person(work.session, target.member_id)
            status = row.status if row else None
            if status == amb_store.ACTIVE:
                raise UserError(f"{target.name} is already an ambassador.")
            if row is None or status != amb_store.PENDING or row.requested_at is None:
                raise UserError(
                    f"{target.name} hasn't asked to join"
                    + (" (their last request was declined)" if status == "declined" else "")
                    + f"; to add them anyway: ambassador add @{target.name}"
                )
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            requested = row.requested_at
            row.decided_by = actor.member_id
            if approve:
                row.status, row.joined_at, row.confirmed_at, row.left_at = (
                    amb_store.ACTIVE,
                    work.now,
                    None,
                    None,
                )
                await self._welcome(work, target, row)
                await self.coverage.refresh(work, [row.office_id])
                outcome = f"✅ Approved by {actor.name}."
            else:
                row.status, row.note = "declined", reason
                await self.p.dm(
                    work,
                    f"{join_key(target.member_id, requested)}:declined",
                    target.ref,
                    Message(
                        text=rich(
                            f"Your request to join the ambassador program was declined by "
                            f"{actor.name}: “",
                            reason or "",
                            "”. Thank you for offering; you're welcome to ask again later.",
                        )
                    ),
                )
                outcome = f"❌ Declined by {actor.name}: “{reason}”."
            view = await self._view(work, target, row, outcome)
            await self.p.edit_managers(
                work, join_key(target.member_id, requested), say.join_card(view), event.event_id
            )
            if approve:
                return (
                    f"{target.name} is now an ambassador. I sent them the role's expectations "
                    "to confirm with I'm in."
                )
            return f"Declined {target.name}'s request; I told them why."

        try:
            return say.said(await self.s.run(event, decide, people=[ref]))
        except AlreadyDone:
            return say.said("Already done.")

    async def _welcome(self, work: Work, person: Person, row: AmbassadorPerson) -> None:
        assert row.joined_at is not None
        config = await self.p.config(work)
        await self.p.dm(
            work,
            welcome_key(person.member_id, row.joined_at),
            person.ref,
            say.welcome(config.expectations),
        )

    async def add(self, event: Event, rest: str) -> Reply:
        ref, office_name = _one_person(event, rest, "ambassador add @bo Paris")
        office_name = " ".join(split_args(office_name))

        async def add(work: Work) -> str:
            actor = await self.p.manager(work, event)
            target = await self._someone(work, event, ref)
            row = await amb_store.person(work.session, target.member_id)
            if row is not None and row.status == amb_store.ACTIVE:
                raise UserError(f"{target.name} is already an ambassador.")
            office = await find_office(work, office_name) if office_name else None
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            was_pending = row is not None and row.status == amb_store.PENDING
            requested = row.requested_at if row else None
            row = await amb_store.person_row(work.session, work.ws_id, target.member_id, work.now)
            before = row.office_id
            if office is not None:
                row.office_id = office.id
            row.status, row.joined_at, row.confirmed_at, row.left_at = (
                amb_store.ACTIVE,
                work.now,
                None,
                None,
            )
            row.decided_by = actor.member_id
            await self._welcome(work, target, row)
            await self.coverage.refresh(work, [before, row.office_id])
            if was_pending and requested is not None:
                view = await self._view(work, target, row, f"✅ Added by {actor.name}.")
                await self.p.edit_managers(
                    work, join_key(target.member_id, requested), say.join_card(view), event.event_id
                )
            where = f" ({office.name})" if office else ""
            return (
                f"{target.name} is now an ambassador{where}. I sent them the role's "
                "expectations to confirm with I'm in."
            )

        return say.said(await self.s.run(event, add, people=[ref]))

    async def remove(self, event: Event, rest: str) -> Reply:
        ref, note = _one_person(event, rest, "ambassador remove @bo “moved to another role”")
        reason = rules.checked_text(note, "reason", rules.MAX_WHY)

        async def remove(work: Work) -> str:
            actor = await self.p.manager(work, event)
            target = await self._someone(work, event, ref)
            row = await amb_store.person(work.session, target.member_id)
            if row is None or row.status != amb_store.ACTIVE:
                raise UserError(f"{target.name} isn't an ambassador.")
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row.status, row.left_at, row.note = "former", work.now, reason
            await self.coverage.refresh(work, [row.office_id])
            why = rich(": “", reason, "”") if reason else ()
            await self.p.dm(
                work,
                f"ambassadors:removed:{target.member_id}:{event.event_id}",
                target.ref,
                Message(
                    text=rich(f"{actor.name} removed you from the ambassador program")
                    + why
                    + rich(". Thank you for everything you did for the community.")
                ),
            )
            return f"{target.name} is no longer an ambassador." + await self._gap(work, row)

        return say.said(await self.s.run(event, remove, people=[ref]))

    async def leave(self, event: Event) -> Reply:
        async def leave(work: Work) -> str:
            actor = await self.p.actor(work, event)
            row = await amb_store.person(work.session, actor.member_id)
            if row is None or row.status not in (amb_store.ACTIVE, amb_store.PENDING):
                raise UserError("You aren't an ambassador; ambassador join asks to join.")
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            if row.status == amb_store.PENDING:
                requested = row.requested_at
                row.status = None
                if requested is not None:
                    view = await self._view(work, actor, row, "↩️ Withdrawn by its requester.")
                    await self.p.edit_managers(
                        work,
                        join_key(actor.member_id, requested),
                        say.join_card(view),
                        event.event_id,
                    )
                return "You withdrew your request to join."
            row.status, row.left_at = "former", work.now
            await self.coverage.refresh(work, [row.office_id])
            return "You left the ambassador program. Thank you for everything you did!"

        return say.said(await self.s.run(event, leave))

    async def _gap(self, work: Work, row: AmbassadorPerson) -> str:
        if row.office_id is None:
            return ""
        office = await work.session.get(AmbassadorOffice, row.office_id)
        if office is None or await amb_store.active_in_office(work.session, office.id):
            return ""
        return f" {office.name} has no ambassador now."

    # ----- "I'm in" ----------------------------------------------------------------------

    async def confirm(self, event: Event) -> Reply:
        async def confirm(work: Work) -> str:
            actor = await self.p.actor(work, event)
            row = await amb_store.person(work.session, actor.member_id)
            if row is None or row.status != amb_store.ACTIVE or row.joined_at is None:
                raise UserError(
                    "Only ambassadors confirm; ambassador join asks to join"
                    + (
                        " (your request is with the community managers)."
                        if row and row.status == amb_store.PENDING
                        else "."
                    )
                )
            if row.confirmed_at is not None:
                return "You're already in. training shows your checklist."
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row.confirmed_at = work.now
            config = await self.p.config(work)
            key = welcome_key(actor.member_id, row.joined_at)
            if await work.was_queued(key):
                await work.edit(key, say.welcome(config.expectations, True), because=event.event_id)
            started = await self.training.start(work, actor, AMBASSADOR)
            return "🙌 You're in! " + (
                "Your training checklist is in your direct messages."
                if started
                else "training shows your checklist."
            )

        try:
            return say.said(await self.s.run(event, confirm))
        except AlreadyDone:
            return say.said("Already done.")

    # ----- the role, profiles and interests ---------------------------------------------------

    async def role(self, event: Event) -> Reply:
        async def read(work: Work) -> str:
            await self.p.actor(work, event)
            return (await self.p.config(work)).expectations

        expectations = await self.s.run(event, read)
        return Reply(
            message=Message(
                text=rich(
                    "What the ambassador role asks:\n",
                    expectations,
                    "\nambassador join asks to join.",
                )
            )
        )

    async def expectations(self, event: Event, rest: str) -> Reply:
        text = rules.checked_text(rest, "text", rules.MAX_TEXT)
        if text is None:
            raise UsageError(
                "Write the expectations in quotes, e.g. ambassador expectations “Two hours a "
                "month: welcome newcomers, run one meetup a quarter”"
            )

        async def change(work: Work) -> None:
            await self.p.manager(work, event)
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row = await amb_store.settings_row(work.session, work.ws_id, work.now)
            row.expectations, row.updated_at = text, work.now

        await self.s.run(event, change)
        return say.said("Saved. New ambassadors will see these expectations when they join.")

    async def profile(self, event: Event, rest: str) -> Reply:
        ids = mentioned_ids(rest)
        if len(ids) > 1 or (rest.strip() and not ids):
            raise UsageError("Usage: ambassador profile [@person], e.g. ambassador profile @bo")
        ref = UserRef(event.workspace, ids[0]) if ids else event.actor

        async def read(work: Work) -> str:
            await self.p.actor(work, event)
            person = await work.person(ref, event.profiles.get(ref.id))
            row = await amb_store.person(work.session, person.member_id)
            member = (await amb_store.members_by_id(work.session, [person.member_id]))[
                person.member_id
            ]
            office = (
                await work.session.get(AmbassadorOffice, row.office_id)
                if row and row.office_id
                else None
            )
            hours = availability.of(
                person.tz, await routing_store.ally(work.session, person.member_id)
            )
            tz = person.tz
            status = {
                amb_store.ACTIVE: "ambassador",
                amb_store.PENDING: "asked to join",
                "declined": "not an ambassador (request declined)",
                "former": "former ambassador",
            }.get(row.status if row and row.status else "", "not an ambassador")
            lines = [f"{person.name}: {status}"]
            if row and row.joined_at and row.status == amb_store.ACTIVE:
                lines[0] += f" since {say.day(row.joined_at, tz)}"
                if row.confirmed_at is None:
                    lines[0] += " (hasn't said I'm in yet)"
            zone = f" ({office.tz})" if office and office.tz else ""
            lines.append(f"Office: {office.name + zone if office else 'none'}")
            lines.append(f"Team: {member.team or 'none'}")
            lines.append(f"Interests: {row.interests if row and row.interests else 'none yet'}")
            lines.append(
                f"Time zone and working hours: {hours.tz.key}, "
                f"{hours.start:%H:%M}-{hours.end:%H:%M} on "
                + ", ".join(
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(hours.days)
                )
            )
            for track in rules.TRACKS:
                progress = await amb_store.progress(work.session, person.member_id, track)
                if progress is None:
                    continue
                views = await self.training.views(work, track, person.member_id)
                done = sum(1 for v in views if v.done)
                state = (
                    f"completed {say.day(progress.completed_at, tz)}"
                    if progress.completed_at
                    else f"{done} of {len(views)} steps done"
                )
                lines.append(f"{rules.TRACK_LABELS[track].capitalize()}: {state}")
            communities = await amb_store.managed_by(work.session, person.member_id)
            if communities:
                names = ", ".join(f"#{c.name}" for c in communities)
                lines.append(f"Community manager of: {names}")
            if (
                not any(line.startswith("Ambassador training") for line in lines)
                and row
                and row.status == amb_store.ACTIVE
            ):
                lines.append("Ambassador training: not started (it starts with I'm in)")
            return "\n".join(lines)

        return say.said(await self.s.run(event, read, people=[ref]))

    async def interests(self, event: Event, rest: str) -> Reply:
        ids = mentioned_ids(rest)
        if len(ids) > 1:
            raise UsageError("Name one person at a time, e.g. ambassador interests @bo design")
        ref = UserRef(event.workspace, ids[0]) if ids else None
        words = split_args(MENTION.sub(" ", rest))
        clear = [w.lower() for w in words] == ["none"]
        themes = [] if clear else rules.themes(words)

        async def change(work: Work) -> str:
            actor = await self.p.actor(work, event)
            target = actor
            if ref is not None and ref != actor.ref:
                target = await self._someone(work, event, ref)
                if themes or clear:
                    await self.p.manager(work, event)
            row = await amb_store.person(work.session, target.member_id)
            whose = "Your" if target is actor else f"{target.name}'s"
            if not themes and not clear:
                current = row.interests if row and row.interests else "none yet"
                return (
                    f"{whose} interests: {current}. Set them with ambassador interests THEME ..., "
                    "e.g. ambassador interests design events"
                )
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row = await amb_store.person_row(work.session, work.ws_id, target.member_id, work.now)
            row.interests = " ".join(themes) or None
            return f"{whose} interests are now: {row.interests or 'none'}."

        return say.said(await self.s.run(event, change, people=[ref] if ref else []))

    # ----- lists ------------------------------------------------------------------------------

    async def listing(self, event: Event, rest: str) -> Reply:
        """`ambassadors [OFFICE|TOPIC]`: names only, never a ping."""
        wanted = " ".join(split_args(rest))
        if wanted.lower() == "coverage":
            return await self.coverage.report(event)

        async def read(work: Work) -> str:
            await self.p.actor(work, event)
            roster = await amb_store.roster(work.session, work.ws_id)
            offices = {o.id: o.name for o in await amb_store.offices(work.session, work.ws_id)}
            if not wanted:
                if not roster:
                    return "No ambassadors yet. ambassador join asks to join."
                lines = [f"Ambassadors ({len(roster)}):"]
                for row, member in roster:
                    where = offices.get(row.office_id or 0, "no office")
                    lines.append(f"• {member.display_name or member.external_id} ({where})")
                return "\n".join(lines)
            office = await amb_store.office(work.session, work.ws_id, wanted)
            if office is not None:
                names = [
                    m.display_name or m.external_id for r, m in roster if r.office_id == office.id
                ]
                if not names:
                    return f"{office.name} has no ambassador yet."
                return f"Ambassadors in {office.name}: {', '.join(names)}."
            theme = wanted.lower().removeprefix("#")
            names = [
                m.display_name or m.external_id
                for r, m in roster
                if theme in (r.interests or "").split()
            ]
            if names:
                return f"Ambassadors interested in {theme}: {', '.join(names)}."
            known = ", ".join(offices.values()) or "none yet"
            return (
                f"No ambassador lists “{wanted[:60]}” among their interests, and there's no "
                f"office by that name (offices: {known})."
            )

        return say.said(await self.s.run(event, read))
