"""Requests from other teams (`ask-ambassadors`): held in a community-manager approval queue;
no ambassador is asked on another team's behalf before a community manager approves, and the
requester is told the outcome. An approved request becomes a campaign of "requests" nudges,
under the same consent, caps, quiet hours and Stop as every other nudge."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.args import split_args, whole_number
from bot.errors import FieldError, UsageError, UserError
from bot.events import ActionPressed, CommandInvoked, FormSubmitted
from bot.ids import UserRef
from bot.messages import Form, FormField, Message, Outbound, Reply, ToUser, rich
from bot.nudges import messages as say
from bot.nudges import targets
from bot.nudges.campaigns import Campaigns, FanoutArgs, Target
from bot.nudges.permissions import MANAGE_NUDGES, manager
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import nudges as store
from store import workspaces as ws_store
from store.models import NudgeRequest

MAX_TEXT = 2000
MAX_REASON = 500
_NUMBER = re.compile(r"(?:a-?)?([0-9]+)", re.IGNORECASE)
USAGE = f"Usage: ask-ambassadors {say.ASK_USAGE}"


def parse_request(text: str) -> int:
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"“{text.strip()}” isn't a request id; expected e.g. A-3.\n{USAGE}")
    return whole_number(match.group(1), 1, 10**9, what="The request number")


class Requests:
    def __init__(self, services: Services, roles: Roles, campaigns: Campaigns) -> None:
        self.s = services
        self.roles = roles
        self.campaigns = campaigns

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        match verb.lower():
            case "approve":
                return await self.decide(event, parse_request(rest), True, "")
            case "decline":
                words = split_args(rest)
                if not words:
                    raise UsageError(f"Name the request and the reason.\n{USAGE}")
                return await self.decide(event, parse_request(words[0]), False, " ".join(words[1:]))
            case "list":
                return await self.list(event)
            case "":
                raise UsageError(f"Say what you'd like the ambassadors to do, in quotes.\n{USAGE}")
        return await self.file(event, args)

    async def file(self, event: CommandInvoked, args: str) -> Reply:
        head, target_text = targets.split_for(split_args(args))
        text = " ".join(head).strip()
        if not text:
            raise UsageError(f"Say what you'd like the ambassadors to do, in quotes.\n{USAGE}")
        if len(text) > MAX_TEXT:
            raise UsageError(f"That's {len(text)} characters; a request has at most {MAX_TEXT}.")

        async def file(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            target, shown = await targets.parse(work, target_text)
            number = await store.next_number(work.session, work.ws_id, "request", work.now)
            row = await store.add_request(
                work.session,
                workspace_id=work.ws_id,
                number=number,
                requester_id=actor.member_id,
                text=text,
                targets=target.stored(),
                status="pending",
                created_at=work.now,
            )
            card = say.approval_card(number, actor.name, text, shown)
            managers = await self.roles.members_who_can(work, MANAGE_NUDGES)
            for member in managers:
                key = f"nudges:request:{row.id}:to:{member.id}"
                await work.send(
                    key,
                    Outbound(
                        target=ToUser(user=UserRef(work.workspace, member.external_id)),
                        message=card,
                        key=key,
                    ),
                )
            who = "the community managers" if managers else "the community team (none yet)"
            return (
                f"📨 Request {say.a(number)} is with {who} for approval. No ambassador is asked "
                "before they approve; I'll tell you the outcome."
            )

        return Reply(message=Message(text=rich(await self.s.run(event, file))))

    async def decide(
        self,
        event: CommandInvoked | ActionPressed | FormSubmitted,
        number: int,
        approve: bool,
        reason: str,
    ) -> Reply:
        reason = reason.strip()
        if not approve and not reason:
            raise UsageError(
                f"A decline needs a reason for the requester, e.g. ask-ambassadors decline "
                f"{say.a(number)} “too promotional”."
            )
        if len(reason) > MAX_REASON:
            raise UsageError(f"Keep the reason under {MAX_REASON} characters.")

        async def decide(work: Work) -> str:
            actor = await manager(self.roles, work, event)
            row = await store.request_by_number(work.session, work.ws_id, number)
            if row is None:
                raise UserError(f"There is no request {say.a(number)}.")
            if row.status != "pending":
                return f"{say.a(number)} was already {row.status}."
            row.status = "approved" if approve else "declined"
            row.decided_by, row.reason, row.decided_at = actor.member_id, reason or None, work.now
            await self._edit_cards(work, row, actor.name)
            requester = await ws_store.get_member_by_id(work.session, row.requester_id)
            if requester is not None:
                told = (
                    f"✅ Your request {say.a(number)} to the ambassadors was approved by "
                    f"{actor.name}. Those who opted in will get it in their working hours."
                    if approve
                    else f"Your request {say.a(number)} to the ambassadors was declined by "
                    f"{actor.name}: “{reason}”."
                )
                await work.send(
                    f"nudges:request:{row.id}:outcome",
                    Outbound(
                        target=ToUser(user=UserRef(work.workspace, requester.external_id)),
                        message=Message(text=rich(told)),
                    ),
                )
            if not approve:
                return f"Declined {say.a(number)}; I told the requester why."
            await self.campaigns.start_campaign(
                work,
                FanoutArgs(
                    workspace=work.workspace,
                    kind="requests",
                    request_id=row.id,
                    targets=row.targets,
                ),
                f"nudges:fanout:request:{row.id}",
            )
            people = await self.campaigns.targeted(work, Target.parse_stored(row.targets))
            return (
                f"Approved {say.a(number)}: queued for {len(people)} ambassador(s), under their "
                "consent, caps and quiet hours. I told the requester."
            )

        return Reply(message=Message(text=rich(await self.s.run(event, decide))))

    async def _edit_cards(self, work: Work, row: NudgeRequest, by: str) -> None:
        requester = await ws_store.get_member_by_id(work.session, row.requester_id)
        name = (requester.display_name if requester else None) or "someone"
        outcome = (
            f"Approved by {by}."
            if row.status == "approved"
            else f"Declined by {by}: “{row.reason}”"
        )
        card = say.approval_card(
            row.number, name, row.text, row.targets.replace("interest:", ""), outcome
        )
        for member in await self.roles.members_who_can(work, MANAGE_NUDGES):
            key = f"nudges:request:{row.id}:to:{member.id}"
            if await work.was_queued(key):
                await work.edit(key, card, because="decided")

    async def list(self, event: CommandInvoked) -> Reply:
        async def read(work: Work) -> str:
            await manager(self.roles, work, event)
            rows = await work.session.scalars(
                select(NudgeRequest)
                .where(NudgeRequest.workspace_id == work.ws_id)
                .order_by(NudgeRequest.number.desc())
                .limit(20)
            )
            found = [f"• {say.a(r.number)} ({r.status}): {r.text[:80]}" for r in rows]
            return "\n".join(found) or "No requests yet."

        return Reply(message=Message(text=rich(await self.s.run(event, read))))

    # ----- the approval card's buttons and form -----------------------------------------------

    async def on_approve(self, event: ActionPressed) -> Reply:
        return await self.decide(event, parse_request(event.value), True, "")

    async def on_decline(self, event: ActionPressed) -> Reply:
        number = parse_request(event.value)
        return Reply(
            message=Message(text=rich(f"Say why {say.a(number)} is declined.")),
            form=Form(
                form_id="nudge:decline",
                title=f"Decline {say.a(number)}",
                submit="Decline",
                state=say.a(number),
                fields=(
                    FormField(
                        id="reason",
                        label="Why (the requester sees this)",
                        kind="multiline",
                        max_length=MAX_REASON,
                    ),
                ),
            ),
        )

    async def on_form(self, event: FormSubmitted) -> Reply:
        reason = (event.values.get("reason") or "").strip()
        if not reason:
            raise FieldError("reason", "A decline needs a reason for the requester.")
        return await self.decide(event, parse_request(event.state), False, reason)
