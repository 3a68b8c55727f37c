"""Console controls for forms, buttons and the "Send as feedback" message action.

A form the core opens is printed with its fields; `:submit field=value ...` sends it (fields not
named keep their prefilled value), `:cancel` drops it. `:press N BUTTON` presses a button of
message N, `:feedback N` is the "Send as feedback" message action on message N.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import whole_number
from bot.errors import UsageError
from bot.events import ActionPressed, FormSubmitted, MessageActionInvoked
from bot.messages import Form, Reply
from store import console as sim

if TYPE_CHECKING:
    from adapters.console.app import ConsoleSession

VERBS = ("feedback", "submit", "cancel", "press")
HELP = """\
  :feedback N                the "Send as feedback" message action on message N (opens a form)
  :submit FIELD=VALUE ...    send the open form (quote values with spaces); :cancel drops it
  :press N BUTTON            press a button of Allybot's message N (e.g. :press 4 acknowledge)"""


def describe(form: Form) -> str:
    lines = [f"  [form] {form.title}  (:submit FIELD=VALUE ... to send it, :cancel to drop it)"]
    for field in form.fields:
        choices = f" one of: {', '.join(field.options)};" if field.options else ""
        optional = " (optional)" if field.optional else ""
        lines.append(f"      {field.id}{optional}: {field.label};{choices} now “{field.value}”")
    return "\n".join(lines)


def show_reply(session: ConsoleSession, reply: Reply) -> None:
    """Prints what a reply adds beyond its text: a form to fill, or problems with one."""
    for field, problem in reply.form_errors.items():
        session.out(f"  [form] {field or 'form'}: {problem} (fix it and :submit again)")
    if reply.form is not None:
        session.pending_form = reply.form
        session.out(describe(reply.form))
    elif not reply.form_errors:
        session.pending_form = None


async def control(session: ConsoleSession, verb: str, args: list[str]) -> None:
    if verb == "cancel":
        session.pending_form = None
        session.out("  Form dropped.")
    elif verb == "submit":
        await _submit(session, args)
    elif verb == "feedback":
        await _send_as_feedback(session, args)
    elif verb == "press":
        await _press(session, args)


async def _submit(session: ConsoleSession, args: list[str]) -> None:
    form = session.pending_form
    if form is None:
        session.out("  No form is open; :feedback N or a button opens one.")
        return
    values = {f.id: f.value for f in form.fields}
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or name not in values:
            names = ", ".join(values)
            session.out(f"  '{arg}' is not FIELD=VALUE for this form; its fields are: {names}.")
            return
        values[name] = session.mention_tokens(value)
    await session.dispatch(
        FormSubmitted(
            **session.event_base(),
            form_id=form.form_id,
            values=values,
            state=form.state,
            conversation=session.conversation(),
        )
    )


async def _send_as_feedback(session: ConsoleSession, args: list[str]) -> None:
    if len(args) != 1:
        session.out("  Usage: :feedback N (e.g. :feedback 3)")
        return
    found = await session.find_message(args[0])
    if found is None:
        return
    message, author = found
    async with session.db.transaction() as tx:
        row = await sim.get_message(tx, int(message.id))
    await session.dispatch(
        MessageActionInvoked(
            **session.event_base(),
            action="send_as_feedback",
            message=message,
            message_author=author,
            message_text=row.text if row is not None else "",
        )
    )


async def _press(session: ConsoleSession, args: list[str]) -> None:
    usage = "Usage: :press N BUTTON (e.g. :press 4 acknowledge)"
    if len(args) < 2:
        session.out(f"  {usage}")
        return
    try:
        number = whole_number(args[0], 1, 999_999_999, what="N", usage=usage)
    except UsageError as exc:
        session.out(f"  {exc}")
        return
    buttons = session.port_buttons(number)
    wanted = " ".join(args[1:]).lower()
    match = [b for b in buttons if b.label.lower().lstrip("+").startswith(wanted.lstrip("+"))]
    if not match:
        labels = ", ".join(b.label for b in buttons) or "none"
        session.out(f"  Message #{args[0]} has no button '{wanted}'; its buttons: {labels}.")
        return
    await session.dispatch(
        ActionPressed(
            **session.event_base(),
            action_id=match[0].action_id,
            value=match[0].value,
            conversation=session.conversation(),
        )
    )
