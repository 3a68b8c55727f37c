"""What routing says: the thread reply, the ally's DM card and its updates, the asker's notes.

Question text is the asker's: it always travels as plain text (mentions shown as names)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ids import UserRef, WorkspaceRef
from bot.messages import Button, Card, ChannelName, Link, Message, Name, Rich, Section, rich
from bot.routing.context import qid
from bot.text import user_text
from store.models import RoutingQuestion

CLAIM = "routing:claim"
PASS = "routing:pass"
SNOOZE = "routing:snooze"
RESOLVE = "routing:resolve"
NOT_YET = "routing:notyet"
KUDOS = "routing:kudos"
APPROVE = "routing:approve"
DECLINE = "routing:decline"  # opens the form "routing:decline" for the reason
EXCERPT = 300


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def question_text(workspace: WorkspaceRef, q: RoutingQuestion, limit: int = EXCERPT) -> Rich:
    return user_text(excerpt(q.text, limit), workspace, lambda u: u.id)


def about(topic: str | None) -> str:
    return f"people who know about {topic}" if topic else "people who can help"


def names(people: Sequence[tuple[UserRef, str]]) -> Rich:
    out: Rich = ()
    for i, (ref, name) in enumerate(people):
        if i:
            out += rich(" and " if i == len(people) - 1 else ", ")
        out += (Name(user=ref, name=name),)
    return out


def thread_reply(
    q: RoutingQuestion, topic: str | None, match: str, asked: Sequence[tuple[UserRef, str]]
) -> Message:
    text = rich(f"👋 {qid(q.number)}: I've asked {about(topic)} (") + rich(match, "): ")
    text += names(asked) + rich(". They'll reply here; press Resolved once you have your answer.")
    return Message(
        text=text,
        card=Card(
            title=f"{qid(q.number)} · {topic or 'general'}",
            sections=(Section(text=text),),
            buttons=(_resolve_button(q),),
        ),
    )


def _resolve_button(q: RoutingQuestion) -> Button:
    return Button(label="Resolved", action_id=RESOLVE, value=str(q.id), style="primary")


def ask_card(
    workspace: WorkspaceRef, q: RoutingQuestion, asker: str, topic: str | None, why: str
) -> Message:
    head = rich(f"🙋 Can you help with {qid(q.number)}? {asker} asks") + _place(q) + rich(": “")
    head += question_text(workspace, q) + rich("”")
    body: Rich = rich(f"Why you: {why}.")
    if q.link:
        body += rich(" ", Link(url=q.link, label="Open the question"))
    return Message(
        text=head,
        card=Card(
            title=f"{qid(q.number)} · {topic or 'general'}",
            sections=(Section(text=head), Section(text=body)),
            buttons=(
                Button(label="I'll take it", action_id=CLAIM, value=str(q.id), style="primary"),
                Button(label="Not my area", action_id=PASS, value=str(q.id)),
                Button(label="Snooze 1 h", action_id=SNOOZE, value=str(q.id)),
            ),
            context=rich(
                f"Or type: question claim {qid(q.number)} · question pass {qid(q.number)} · "
                f"question snooze {qid(q.number)} 1h"
            ),
        ),
    )


def _place(q: RoutingQuestion) -> Rich:
    return rich(" in ", ChannelName(id=q.channel_id)) if q.channel_id else rich(" by DM")


def plain(text: str) -> Message:
    return Message(text=rich(text))


def taken(q: RoutingQuestion, claimer: str) -> Message:
    return plain(f"✅ {claimer} is on {qid(q.number)}. Thanks for looking!")


def yours(q: RoutingQuestion, channel: bool) -> Message:
    how = "Reply in its thread" if channel else f"Answer with question answer {qid(q.number)} TEXT"
    return plain(
        f"👍 You're on {qid(q.number)}. {how}; the asker resolves it once they have their answer."
    )


def resolved_note(q: RoutingQuestion, helper: str | None) -> Message:
    by = f" {helper} helped." if helper else ""
    return plain(f"✅ {qid(q.number)} is resolved.{by}")


def thank_card(q: RoutingQuestion, helper_ref: UserRef, helper: str) -> Message:
    text = rich(
        f"✅ {qid(q.number)} is resolved. Want to thank ",
        Name(user=helper_ref, name=helper),
        " for their help? One tap sends them kudos.",
    )
    return Message(
        text=text,
        card=Card(
            title=f"{qid(q.number)} resolved",
            sections=(Section(text=text),),
            buttons=(
                Button(label=f"Thank {helper}", action_id=KUDOS, value=str(q.id), style="primary"),
            ),
            context=rich(f"Or: kudos @{helper} thanks for answering {qid(q.number)}"),
        ),
    )


def day_check(workspace: WorkspaceRef, q: RoutingQuestion) -> Message:
    text = (
        rich(f"🤔 Did you get an answer to {qid(q.number)} (“")
        + question_text(workspace, q, 120)
        + rich("”)?")
    )
    return Message(
        text=text,
        card=Card(
            title=f"{qid(q.number)}: answered?",
            sections=(Section(text=text),),
            buttons=(
                Button(label="Yes, resolved", action_id=RESOLVE, value=str(q.id), style="primary"),
                Button(label="Not yet", action_id=NOT_YET, value=str(q.id)),
            ),
        ),
    )


def at(when: datetime, tz: ZoneInfo) -> str:
    return f"{when.astimezone(tz):%a %d %b %H:%M} ({tz.key})"


def nomination_card(
    nominee_ref: UserRef, nominee: str, topic: str, member_id: int, topic_id: int
) -> Message:
    text = rich(Name(user=nominee_ref, name=nominee), f" would like to be an expert on {topic}.")
    value = f"{topic_id}:{member_id}"
    return Message(
        text=text,
        card=Card(
            title=f"Expert nomination: {topic}",
            sections=(Section(text=text),),
            buttons=(
                Button(label="Approve", action_id=APPROVE, value=value, style="primary"),
                Button(label="Decline…", action_id=DECLINE, value=value, style="danger"),
            ),
            context=rich(
                f"Or type: expert approve @{nominee_ref.id} {topic} · "
                f'expert decline @{nominee_ref.id} {topic} "reason"'
            ),
        ),
    )


def answered(q: RoutingQuestion, helper: str, said: str) -> Message:
    """An answer to a question asked by DM, relayed to the asker with the helper named."""
    text = rich(f"💬 {helper} answered your question {qid(q.number)}: ", said)
    return Message(
        text=text,
        card=Card(
            title=f"{qid(q.number)}: {helper} answered",
            sections=(Section(text=text),),
            buttons=(_resolve_button(q),),
        ),
    )
