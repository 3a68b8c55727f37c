"""Feedback's buttons and forms: the triage card's buttons, the forms they open, the message
action's form, and what each submitted form does (filed by intake, triaged by triage)."""

from __future__ import annotations

import json

from bot.errors import FieldError, UserError
from bot.events import ActionPressed, FormSubmitted, MessageActionInvoked
from bot.feedback import config as feedback_config
from bot.feedback import views as load
from bot.feedback.intake import Intake, Submission
from bot.feedback.messages import fb
from bot.feedback.permissions import triager
from bot.feedback.rules import MAX_NOTE, MAX_TEXT, checked_note, parse_number
from bot.feedback.triage import Triage
from bot.messages import Form, FormField, Message, Reply, rich
from bot.roles import Roles
from bot.services import Services
from bot.work import Work


class Forms:
    def __init__(self, services: Services, roles: Roles, intake: Intake, triage: Triage) -> None:
        self.s = services
        self.roles = roles
        self.intake = intake
        self.triage = triage

    # ----- the message action -----------------------------------------------------------------

    async def on_message_action(self, event: MessageActionInvoked) -> Reply:
        async def categories(work: Work) -> tuple[str, ...]:
            return (await feedback_config.load(work.session, work.ws_id)).categories

        options = await self.s.run_in(event.workspace, categories)
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
                        options=options,
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

    # ----- submitted forms --------------------------------------------------------------------

    async def on_form(self, event: FormSubmitted) -> Reply:
        kind = event.form_id.partition(":")[2]
        values = event.values
        if kind == "new":
            try:
                state = json.loads(event.state or "{}")
            except ValueError:
                state = {}
            return await self.intake.submit(
                event,
                Submission(
                    text=values.get("text", ""),
                    anonymous=values.get("anonymous", "no").strip().lower()
                    in ("yes", "true", "on"),
                    category=(values.get("category") or "").strip() or None,
                    source="form",
                    source_key=f"form:{event.event_id}",
                    link=state.get("link") if isinstance(state, dict) else None,
                    note=checked_note(values.get("note")),
                ),
            )
        number = parse_number(event.state)
        if kind == "decline":
            reason = checked_note(values.get("reason"), "reason")
            if not reason:
                raise FieldError("reason", "Say why it is declined: its submitter will read it.")
            return await self.triage.set_status(event, number, "declined", reason)
        if kind == "duplicate":
            original = (values.get("original") or "").strip()
            try:
                parse_number(original)
            except UserError as exc:
                raise FieldError("original", str(exc)) from None
            note = checked_note(values.get("note"))
            if not note:
                raise FieldError("note", "Write a line to its submitter; they will read it.")
            return await self.triage.set_status(event, number, "duplicate", note, original=original)
        if kind == "category":
            return await self.triage.set_category(event, number, values.get("category", ""))
        raise UserError("That form has expired; please start again.")

    # ----- the triage card's buttons ----------------------------------------------------------

    async def on_action(self, event: ActionPressed) -> Reply:
        verb = event.action_id.partition(":")[2]
        number = parse_number(event.value)
        if verb == "ack":
            return await self.triage.set_status(event, number, "acknowledged", None)
        if verb == "assign":
            return await self.triage.assign(event, number, "me")
        if verb == "vote":
            return await self.triage.vote(event, number)

        async def read(work: Work) -> tuple[str | None, tuple[str, ...]]:
            await triager(self.roles, work, event)
            item = await load.item(work, number)
            config = await feedback_config.load(work.session, work.ws_id)
            return item.category, config.categories

        category, categories = await self.s.run(event, read)
        fields: tuple[FormField, ...]
        if verb == "category":
            title, submit = f"Category of {fb(number)}", "Save"
            fields = (
                FormField(
                    id="category",
                    label="Category",
                    kind="select",
                    options=categories,
                    value=category or "",
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
                form_id=f"feedback:{verb}",
                title=title,
                fields=fields,
                submit=submit,
                state=str(number),
            ),
        )
