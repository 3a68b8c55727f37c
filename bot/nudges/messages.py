"""What nudges say: the DMs with their buttons, the approval card, usage and examples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Button, Card, Code, Link, Message, Rich, Section, rich
from bot.nudges.links import ShareLinks

GUARDRAIL = "Ambassadors share what they believe in; this is not an ad channel."

NUDGES_USAGE = (
    "[on|off | kinds KIND ... | cap N | pause 2w | resume | snooze 1d|1w | stop [KIND] | status]"
)
NUDGES_EXAMPLES = (
    "nudges on",
    "nudges kinds questions content",
    "nudges pause 2w",
    "nudges status",
)
CONTENT_USAGE = (
    'add URL "title" ["suggested text"] [for: interest, office ...] | shared C-4 [where] | '
    "skip C-4 | list | report [C-4|ambassadors] | export"
)
CONTENT_EXAMPLES = (
    'content add https://example.com/launch "Our launch" "Proud of the team!" for: design, Paris',
    "content report C-1",
)
ASK_USAGE = '"what we\'d like" [for: interest ...] | approve A-3 | decline A-3 "reason" | list'
ASK_EXAMPLES = (
    'ask-ambassadors "Share our hiring post" for: engineering',
    'ask-ambassadors decline A-3 "too salesy"',
)


def c(number: int) -> str:
    return f"C-{number}"


def a(number: int) -> str:
    return f"A-{number}"


def when(instant: datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%a %d %b %H:%M} ({tz.key})"


def guardrail_buttons(nudge_id: int) -> tuple[Button, ...]:
    return (
        Button(label="Snooze a day", action_id="nudge:snooze", value=f"{nudge_id}:1d"),
        Button(label="Snooze a week", action_id="nudge:snooze", value=f"{nudge_id}:1w"),
        Button(label="Stop these", action_id="nudge:stop", value=str(nudge_id), style="danger"),
    )


def _footer(kind: str) -> Rich:
    return rich(
        "You get these because you opted in (",
        Code(text="nudges"),
        " shows what and when). ",
        Code(text=f"nudges stop {kind}"),
        " stops this kind, ",
        Code(text="nudges off"),
        " all of them.",
    )


def content_nudge(
    nudge_id: int, number: int, title: str, text: str | None, links: ShareLinks
) -> Message:
    body: list[Section] = []
    if text:
        body.append(Section(text=rich("Suggested text, ready to copy:\n", Code(text=text))))
    body.append(
        Section(
            text=rich(
                Link(url=links.url, label=title),
                "\nShare on ",
                Link(url=links.linkedin, label="LinkedIn"),
                " · ",
                Link(url=links.x, label="X"),
                " · ",
                Link(url=links.email, label="email"),
            )
        )
    )
    return Message(
        text=rich(f"📣 Something to share, if you like it ({c(number)}): {title}"),
        card=Card(
            title=f"Something to share: {title}",
            sections=tuple(body),
            buttons=(
                Button(
                    label="Shared it",
                    action_id="nudge:shared",
                    value=str(nudge_id),
                    style="primary",
                ),
                Button(label="Not for me", action_id="nudge:skip", value=str(nudge_id)),
                *guardrail_buttons(nudge_id),
            ),
            context=_footer("content"),
        ),
    )


def question_nudge(nudge_id: int, number: int, topic: str, text: str, link: str | None) -> Message:
    where: Rich = rich(" ", Link(url=link, label="Open the thread")) if link else ()
    return Message(
        text=rich(f"🙋 An open question in {topic}, one of your topics (Q-{number})"),
        card=Card(
            title=f"An open question in {topic}",
            sections=(
                Section(
                    text=rich(f"“{text[:500]}”")
                    + where
                    + rich("\nCan you help? ", Code(text=f"question claim Q-{number}"))
                ),
            ),
            buttons=guardrail_buttons(nudge_id),
            context=_footer("questions"),
        ),
    )


def training_nudge(nudge_id: int, position: int, title: str, link: str | None) -> Message:
    more: Rich = rich(" ", Link(url=link, label="Open it")) if link else ()
    return Message(
        text=rich(f"🎓 Your next training step: {title}"),
        card=Card(
            title="Your next training step",
            sections=(
                Section(
                    text=rich(f"Step {position}: {title}")
                    + more
                    + rich("\nDone? ", Code(text=f"training done {position}"))
                ),
            ),
            buttons=guardrail_buttons(nudge_id),
            context=_footer("training"),
        ),
    )


def checkin_nudge(nudge_id: int, weeks: int) -> Message:
    return Message(
        text=rich("👋 Just checking in: how are things going?"),
        card=Card(
            title="How are things going?",
            sections=(
                Section(
                    text=rich(
                        f"We haven't seen you around the program for {weeks} weeks, and that's "
                        "fine: life gets busy. If you'd like a lighter load, ",
                        Code(text="nudges pause 4w"),
                        " gives you a break; if you'd like to help again, ",
                        Code(text="questions"),
                        " shows what's open.",
                    )
                ),
            ),
            buttons=guardrail_buttons(nudge_id),
            context=_footer("checkins"),
        ),
    )


def request_nudge(nudge_id: int, number: int, team: str, text: str) -> Message:
    return Message(
        text=rich(f"🤝 A request from {team}, approved by the community team ({a(number)})"),
        card=Card(
            title=f"A request from {team}",
            sections=(
                Section(text=rich(f"“{text[:1000]}”\nOnly if it's something you believe in.")),
            ),
            buttons=guardrail_buttons(nudge_id),
            context=_footer("requests"),
        ),
    )


def answered(message: Message, note: str) -> Message:
    """The nudge's card once answered: same content, no buttons, what was done."""
    if message.card is None:
        return message
    card = message.card.model_copy(update={"buttons": (), "context": rich(note)})
    return message.model_copy(update={"card": card})


def approval_card(
    number: int, requester: str, text: str, targets: str, decided: str | None = None
) -> Message:
    buttons: tuple[Button, ...] = ()
    if decided is None:
        buttons = (
            Button(label="Approve", action_id="nudge:approve", value=a(number), style="primary"),
            Button(label="Decline…", action_id="nudge:decline", value=a(number), style="danger"),
        )
    return Message(
        text=rich(f"Request {a(number)} from {requester} to the ambassadors: approve or decline"),
        card=Card(
            title=f"Request {a(number)} for the ambassadors",
            sections=(
                Section(text=rich(f"{requester} would like: “{text[:1000]}”")),
                Section(text=rich(f"For: {targets or 'every ambassador'}")),
                Section(text=rich(f"⚠️ {GUARDRAIL}")),
            ),
            buttons=buttons,
            context=rich(
                decided
                or f"Or type: ask-ambassadors approve {a(number)} / "
                f"ask-ambassadors decline {a(number)} “reason”"
            ),
        ),
    )


def lines(items: Sequence[str]) -> str:
    return "\n".join(items)
