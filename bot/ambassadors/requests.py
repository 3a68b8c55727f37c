"""Community requests (governance): asking for a new community channel, the community
managers' review card (approve, decline with a reason, ask for changes), and what approval does.

A request is checked before anything is written: a name Slack would reject, a name already
requested, a private request without its reason. On approval the channel is created first,
outside any transaction (a platform call), where the port can (ChannelCreator, Slack); only
when that worked is the approval recorded, with the requester made the community's manager and
started on the community-manager checklist, in one unit of work. So a name the platform says is
taken leaves nothing behind. Where the bot cannot create channels (Teams), the approval is
recorded and the community manager is told what to do by hand.
"""

from __future__ import annotations

import logging

from bot.ambassadors import messages as say
from bot.ambassadors import rules
from bot.ambassadors.program import Program
from bot.ambassadors.rules import MANAGER, rn
from bot.ambassadors.training import Training
from bot.args import split_args
from bot.errors import UsageError, UserError
from bot.events import Event
from bot.ids import Platform, UserRef
from bot.messages import Message, Reply, rich
from bot.ports import ChannelCreator, ChannelNotCreated
from bot.services import Services
from bot.work import AlreadyDone, Work
from store import ambassadors as amb_store
from store.models import CommunityRequest

log = logging.getLogger(__name__)

LIVE = ("open", "changes", "approved")  # a name in one of these is taken
USAGE = "community request #name “purpose” [private “why it must be private”]"


def card_key(request: CommunityRequest, filing_id: int) -> str:
    return f"community:{request.id}:{filing_id}:card"


class Requests:
    def __init__(self, services: Services, program: Program, training: Training) -> None:
        self.s = services
        self.p = program
        self.training = training

    async def _view(
        self, work: Work, request: CommunityRequest, outcome: str | None = None
    ) -> say.RequestView:
        members = await amb_store.members_by_id(work.session, [request.requester_id])
        member = members.get(request.requester_id)
        return say.RequestView(
            number=request.number,
            name=request.name,
            purpose=request.purpose,
            private=request.private,
            private_reason=request.private_reason,
            status=request.status,
            requester=(member.display_name or member.external_id) if member else "someone",
            channel_id=request.channel_id,
            outcome=outcome,
        )

    async def _load(self, work: Work, number: int) -> CommunityRequest:
        request = await amb_store.request_by_number(work.session, work.ws_id, number)
        if request is None:
            raise UserError(f"There's no request {rn(number)}; community requests lists them.")
        return request

    async def _edit_cards(
        self, work: Work, request: CommunityRequest, outcome: str, because: str
    ) -> None:
        filing = await amb_store.last_filing(work.session, request.id)
        if filing is not None:
            view = await self._view(work, request, outcome)
            await self.p.edit_managers(
                work, card_key(request, filing.id), say.review_card(view), because
            )

    # ----- filing -----------------------------------------------------------------------------

    async def request(self, event: Event, rest: str) -> Reply:
        words = split_args(rest)
        if not words:
            raise UsageError(f"Usage: {USAGE}")
        name = rules.channel_name(words[0])
        lowered = [w.lower() for w in words]
        cut = lowered.index("private", 1) if "private" in lowered[1:] else len(words)
        purpose = rules.checked_text(" ".join(words[1:cut]), "purpose", rules.MAX_TEXT)
        private = cut < len(words)
        reason = rules.checked_text(" ".join(words[cut + 1 :]), "reason", rules.MAX_TEXT)
        if purpose is None:
            raise UsageError(
                f"Say what #{name} is for, in quotes, e.g. community request #{name} "
                "“a place for designers to share work”"
            )
        if private and reason is None:
            raise UserError(
                f"A private community needs a reason: {rules.STANCE} Say why #{name} must be "
                f"private, e.g. community request #{name} “{purpose[:40]}” private “we discuss "
                "unreleased designs”"
            )

        async def file(work: Work) -> tuple[int, bool, int]:
            actor = await self.p.actor(work, event)
            taken = await amb_store.requests_named(work.session, work.ws_id, name, LIVE)
            mine = [r for r in taken if r.status == "changes" and r.requester_id == actor.member_id]
            others = [r for r in taken if r not in mine]
            if others:
                first = others[0]
                state = say.STATUS_LABELS.get(first.status, first.status)
                raise UserError(
                    f"#{name} is already requested ({rn(first.number)}, {state}); pick another "
                    "name, or see community show " + rn(first.number)
                )
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            revised = bool(mine)
            if mine:
                request = mine[0]
                request.purpose, request.private = purpose, private
                request.private_reason = reason if private else None
                request.status, request.updated_at = "open", work.now
            else:
                request = await amb_store.add_request(
                    work.session,
                    workspace_id=work.ws_id,
                    number=await amb_store.next_request_number(work.session, work.ws_id, work.now),
                    requester_id=actor.member_id,
                    name=name,
                    purpose=purpose,
                    private=private,
                    private_reason=reason if private else None,
                    status="open",
                    created_at=work.now,
                    updated_at=work.now,
                )
            filing = await amb_store.add_change(
                work.session,
                request_id=request.id,
                actor_id=actor.member_id,
                kind="revised" if revised else "filed",
                note=None,
                now=work.now,
            )
            view = await self._view(work, request)
            told = await self.p.to_managers(
                work, card_key(request, filing.id), say.review_card(view)
            )
            return request.number, revised, told

        try:
            number, revised, told = await self.s.run(event, file)
        except AlreadyDone:
            return say.said("Already done.")
        who = "the community managers" if told else "nobody yet (there is no community manager)"
        verb = "revised" if revised else "sent"
        stance = "" if private else f" {rules.STANCE}"
        return say.said(
            f"🏘️ {rn(number)}: I {verb} your request for #{name} to {who}; I'll tell you at every "
            f"step.{stance}"
        )

    # ----- deciding ---------------------------------------------------------------------------

    async def approve(self, event: Event, number: int) -> Reply:
        async def check(work: Work) -> tuple[str, bool, UserRef]:
            await self.p.manager(work, event)
            request = await self._load(work, number)
            self._must_be_open(request, "approved")
            members = await amb_store.members_by_id(work.session, [request.requester_id])
            requester = members[request.requester_id]
            return request.name, request.private, self.p.ref(work, requester)

        name, private, requester = await self.s.run(event, check)
        port = self.s.ports.get(event.workspace.platform)
        channel_id: str | None = None
        if isinstance(port, ChannelCreator):
            try:  # outside any transaction: a platform call
                channel_id = await port.create_channel(event.workspace, name, private, (requester,))
            except ChannelNotCreated as exc:
                raise UserError(_not_created(name, number, exc)) from None

        async def record(work: Work) -> tuple[str, bool]:
            actor = await self.p.manager(work, event)
            request = await self._load(work, number)
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            if request.status != "open":
                if channel_id:
                    log.warning("%s approved twice at once; channel %s made", rn(number), name)
                self._must_be_open(request, "approved")
            request.status, request.decided_by = "approved", actor.member_id
            request.channel_id, request.updated_at = channel_id, work.now
            note = f"channel {channel_id} created" if channel_id else "to be created by hand"
            await amb_store.add_change(
                work.session,
                request_id=request.id,
                actor_id=actor.member_id,
                kind="approved",
                note=note,
                now=work.now,
            )
            requester_person = await work.person(requester)
            had = await amb_store.progress(work.session, requester_person.member_id, MANAGER)
            onboarding = (
                " training manager shows your community-manager checklist."
                if had
                else " Your community-manager onboarding checklist follows."
            )
            if channel_id:
                told = (
                    f"✅ {rn(number)} is approved by {actor.name}: I created "
                    f"{'the private channel' if private else ''} #{name} and added you. You're "
                    f"its community manager.{onboarding}"
                )
            else:
                told = (
                    f"✅ {rn(number)} is approved by {actor.name}. {actor.name} will create "
                    f"#{name} by hand and add you; you'll be its community manager.{onboarding}"
                )
            await self.p.dm(
                work,
                f"community:{request.id}:approved",
                requester,
                Message(text=rich(" ".join(told.split()))),
            )
            await self.training.start(work, requester_person, MANAGER)  # after the news
            outcome = f"✅ Approved by {actor.name}" + (
                f": #{name} created." if channel_id else f": #{name} to be created by hand."
            )
            await self._edit_cards(work, request, outcome, event.event_id)
            return requester_person.name, bool(channel_id)

        try:
            who, created = await self.s.run(event, record, people=[requester])
        except AlreadyDone:
            return say.said("Already done.")
        if created:
            return say.said(
                f"{rn(number)} approved: #{name} is created and {who} is in it as its community "
                "manager. I told them, and started their onboarding checklist."
            )
        return say.said(
            f"{rn(number)} approved. {_by_hand(event.workspace.platform, name, private, who)} "
            f"I told {who}, and started their onboarding checklist."
        )

    async def decline(self, event: Event, number: int, reason: str | None) -> Reply:
        text = rules.checked_text(reason, "reason", rules.MAX_TEXT)
        if text is None:
            raise UsageError(
                f"Declining {rn(number)} needs a reason for its requester, e.g. community "
                f"decline {rn(number)} “#design already covers this”"
            )
        return await self._close(event, number, "declined", text)

    async def changes(self, event: Event, number: int, what: str | None) -> Reply:
        text = rules.checked_text(what, "note", rules.MAX_TEXT)
        if text is None:
            raise UsageError(
                f"Say what should change, e.g. community changes {rn(number)} “make it open: "
                "nothing here needs to be private”"
            )
        return await self._close(event, number, "changes", text)

    async def _close(self, event: Event, number: int, status: str, text: str) -> Reply:
        async def close(work: Work) -> str:
            actor = await self.p.manager(work, event)
            request = await self._load(work, number)
            if status == "declined" and request.status == "changes":
                pass  # a request waiting for changes can still be declined
            else:
                self._must_be_open(request, say.STATUS_LABELS[status])
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            request.status, request.updated_at = status, work.now
            if status == "declined":
                request.decided_by = actor.member_id
            change = await amb_store.add_change(
                work.session,
                request_id=request.id,
                actor_id=actor.member_id,
                kind=status,
                note=text,
                now=work.now,
            )
            members = await amb_store.members_by_id(work.session, [request.requester_id])
            requester = self.p.ref(work, members[request.requester_id])
            if status == "declined":
                message = rich(
                    f"{rn(number)}: {actor.name} declined your request for #{request.name}: “",
                    text,
                    "”.",
                )
                outcome = f"❌ Declined by {actor.name}: “{text}”"
            else:
                message = rich(
                    f"{rn(number)}: {actor.name} asked for changes to your request for "
                    f"#{request.name}: “",
                    text,
                    f"”. Send the revised request with community request #{request.name} "
                    "“purpose” [private “why”].",
                )
                outcome = f"✏️ Changes asked by {actor.name}: “{text}”"
            await self.p.dm(
                work, f"community:{request.id}:{change.id}", requester, Message(text=message)
            )
            await self._edit_cards(work, request, outcome, event.event_id)
            return members[request.requester_id].display_name or "the requester"

        try:
            who = await self.s.run(event, close)
        except AlreadyDone:
            return say.said("Already done.")
        done = "declined" if status == "declined" else "sent back for changes"
        return say.said(f"{rn(number)} {done}; I told {who}.")

    def _must_be_open(self, request: CommunityRequest, wanted: str) -> None:
        if request.status == "open":
            return
        now = say.STATUS_LABELS.get(request.status, request.status)
        if request.status == "changes":
            raise UserError(
                f"{rn(request.number)} is waiting for its requester's changes, so it can't be "
                f"{wanted} now; it can still be declined."
            )
        raise UserError(f"{rn(request.number)} is already {now}; its decision stands.")

    # ----- reading ----------------------------------------------------------------------------

    async def listing(self, event: Event, rest: str) -> Reply:
        which = rest.strip().lower() or "open"
        if which not in ("open", "all"):
            raise UsageError(
                f"“{rest.strip()[:30]}” is not a list; use community requests open|all"
            )

        async def read(work: Work) -> str:
            await self.p.actor(work, event)
            rows = await amb_store.requests(
                work.session, work.ws_id, ("open", "changes") if which == "open" else None
            )
            if not rows:
                return "No open community requests." if which == "open" else "No requests yet."
            members = await amb_store.members_by_id(work.session, [r.requester_id for r in rows])
            lines = [f"Community requests ({which}):"]
            for r in rows:
                m = members.get(r.requester_id)
                who = (m.display_name or m.external_id) if m else "someone"
                private = ", private" if r.private else ""
                state = say.STATUS_LABELS.get(r.status, r.status)
                lines.append(f"• {rn(r.number)} #{r.name} ({state}{private}), by {who}")
            return "\n".join(lines)

        return say.said(await self.s.run(event, read))

    async def show(self, event: Event, number: int) -> Reply:
        async def read(work: Work) -> Message:
            await self.p.actor(work, event)
            tz = (await work.person(event.actor)).tz
            request = await self._load(work, number)
            view = await self._view(work, request)
            history = await amb_store.changes(work.session, request.id)
            members = await amb_store.members_by_id(
                work.session, [c.actor_id for c in history if c.actor_id is not None]
            )
            text = rich(
                f"{rn(number)} #{request.name} ({say.STATUS_LABELS.get(request.status)}), "
                f"by {view.requester}\nPurpose: “",
                request.purpose,
                "”\nVisibility: ",
            )
            text += say.visibility(view)
            text += rich("\nHistory:")
            for change in history:
                who = members.get(change.actor_id or 0)
                name = (who.display_name or who.external_id) if who else "someone"
                when = change.created_at.astimezone(tz).strftime("%-d %b %Y %H:%M")
                text += rich(f"\n• {when} {name}: {change.kind}")
                if change.note:
                    text += rich(" “", change.note, "”")
            return Message(text=text)

        return Reply(message=await self.s.run(event, read))


def _not_created(name: str, number: int, exc: ChannelNotCreated) -> str:
    if exc.code == "name_taken":
        return (
            f"#{name} is already taken on Slack, so I couldn't create it and nothing changed. "
            f"Ask for another name: community changes {rn(number)} “#{name} exists; pick "
            "another name”"
        )
    if exc.code.startswith("invalid_name"):
        return f"Slack rejected the name #{name} ({exc.code}); nothing changed."
    if exc.code == "missing_scope":
        return (
            f"I'm not allowed to create channels (the app lacks the channels:manage and "
            f"groups:write scopes); nothing changed. An admin can reinstall the app from its "
            f"manifest, then approve {rn(number)} again."
        )
    later = " Try again in a moment." if exc.retryable else ""
    return f"Slack couldn't create #{name} ({exc.code}); nothing changed.{later}"


def _by_hand(platform: Platform, name: str, private: bool, who: str) -> str:
    kind = "Private" if private else "Standard"
    if platform == Platform.TEAMS:
        return (
            f"Teams doesn't let bots create channels, so please create it by hand: in the "
            f"team, choose ⋯ → Add channel, name it “{name}”, set its privacy to {kind}, and "
            f"add {who} as an owner."
        )
    return (
        f"I can't create channels here, so please create #{name} by hand "
        f"({kind.lower()}), and add {who} as its owner."
    )
