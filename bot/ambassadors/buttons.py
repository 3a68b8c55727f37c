"""The program's buttons and forms. Each does exactly what its command does (roster, training,
requests); a decline or a request for changes opens a form for its reason first."""

from __future__ import annotations

from bot.ambassadors.requests import Requests
from bot.ambassadors.roster import Roster
from bot.ambassadors.rules import TRACKS, request_number, rn, whole_number
from bot.ambassadors.training import Training
from bot.errors import FieldError, UserError
from bot.events import ActionPressed, FormSubmitted
from bot.messages import Form, FormField, Message, Reply, rich

MAX_REASON = 2000


def _form(form_id: str, title: str, state: str, field: str, label: str, submit: str) -> Reply:
    return Reply(
        message=Message(text=rich(f"{title}: fill in the form.")),
        form=Form(
            form_id=form_id,
            title=title,
            submit=submit,
            state=state,
            fields=(FormField(id=field, label=label, kind="multiline", max_length=MAX_REASON),),
        ),
    )


class Buttons:
    def __init__(self, roster: Roster, training: Training, requests: Requests) -> None:
        self.roster = roster
        self.training = training
        self.requests = requests

    # ----- buttons ------------------------------------------------------------------------

    async def ambassador(self, event: ActionPressed) -> Reply:
        verb = event.action_id.partition(":")[2]
        if verb == "confirm":
            return await self.roster.confirm(event)
        if verb == "approve":
            ref = self.roster.ref_of(event, event.value)
            return await self.roster.decide(event, ref, True, None)
        if verb == "decline":
            self.roster.ref_of(event, event.value)  # a card naming nobody: say so now
            return _form(
                "ambassador:decline",
                "Decline request to join",
                event.value,
                "reason",
                "Why? (sent to them)",
                "Decline",
            )
        raise UserError(f"That button ({event.action_id}) is not one I know.")

    async def training_done(self, event: ActionPressed) -> Reply:
        track, _, step = event.value.partition(":")
        if event.action_id != "training:done" or track not in TRACKS:
            raise UserError(f"That button ({event.action_id}) is not one I know.")
        step_id = whole_number(step, "step", 1, 10**12, "training done 1")
        return await self.training.tick(event, track, step_id)

    async def community(self, event: ActionPressed) -> Reply:
        verb = event.action_id.partition(":")[2]
        number = request_number(event.value)
        if verb == "approve":
            return await self.requests.approve(event, number)
        if verb == "decline":
            return _form(
                "community:decline",
                f"Decline {rn(number)}",
                str(number),
                "reason",
                "Why? (sent to the requester)",
                "Decline",
            )
        if verb == "changes":
            return _form(
                "community:changes",
                f"Changes to {rn(number)}",
                str(number),
                "note",
                "What should change? (sent to the requester)",
                "Send",
            )
        raise UserError(f"That button ({event.action_id}) is not one I know.")

    # ----- forms --------------------------------------------------------------------------

    async def ambassador_form(self, event: FormSubmitted) -> Reply:
        reason = (event.values.get("reason") or "").strip()
        if event.form_id != "ambassador:decline" or not event.state:
            raise UserError("That form has expired; please start again.")
        if not reason:
            raise FieldError("reason", "Say why: they will read it.")
        ref = self.roster.ref_of(event, event.state)
        return await self.roster.decide(event, ref, False, reason)

    async def community_form(self, event: FormSubmitted) -> Reply:
        number = request_number(event.state)
        if event.form_id == "community:decline":
            reason = (event.values.get("reason") or "").strip()
            if not reason:
                raise FieldError("reason", "Say why it is declined: its requester will read it.")
            return await self.requests.decline(event, number, reason)
        if event.form_id == "community:changes":
            note = (event.values.get("note") or "").strip()
            if not note:
                raise FieldError("note", "Say what should change: its requester will read it.")
            return await self.requests.changes(event, number, note)
        raise UserError("That form has expired; please start again.")
