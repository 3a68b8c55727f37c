"""What the program says: review cards, the welcome with its "I'm in", checklists and texts.

Everything a person wrote travels as plain text (escaped by each adapter), so a reason or a
purpose can never ping a channel or inject markup. Cards name people without pinging them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ambassadors import rules
from bot.ambassadors.rules import rn
from bot.messages import Button, Card, CardField, Link, Message, Reply, Rich, Section, rich

USAGE = {
    "ambassador": (
        "join [OFFICE] [“why”] | leave | role | profile [@person] | interests [@person] THEME "
        "... | add @person [OFFICE] | remove @person [“reason”] | approve @person | decline "
        "@person “reason” | confirm | expectations “text”"
    ),
    "ambassadors": "[coverage | OFFICE | TOPIC]",
    "office": "add NAME [tz ZONE] | remove NAME | set [@person] NAME|none",
    "offices": "",
    "training": (
        "[manager] [add “Step” [“link”] | remove N | reorder N ...] | done N [manager] | status"
    ),
    "community": (
        "request #name “purpose” [private “why it must be private”] | requests [open|all] | "
        "show R-7 | approve R-7 | decline R-7 “reason” | changes R-7 “what to change”"
    ),
}
EXAMPLES = {
    "ambassador": ("ambassador join Paris “I love helping newcomers”", "ambassador approve @bo"),
    "ambassadors": ("ambassadors coverage", "ambassadors Paris"),
    "office": ("office add Paris tz Europe/Paris", "office set Paris"),
    "offices": ("offices",),
    "training": ("training done 1", "training add “Shadow a meetup” “https://wiki/x”"),
    "community": (
        "community request #design-guild “a place for designers”",
        "community approve R-7",
    ),
}
STATUS_LABELS = {
    "open": "open",
    "changes": "changes asked",
    "approved": "approved",
    "declined": "declined",
}


def said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))


def day(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%-d %b %Y")


# ----- joining --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinView:
    user_id: str  # the platform's id of the person, which the buttons carry
    name: str
    office: str | None
    team: str | None
    why: str | None
    interests: str | None
    outcome: str | None = None  # "✅ Approved by Ana", once decided


def join_card(view: JoinView) -> Message:
    fields = [
        CardField(label="Office", value=rich(view.office or "none given")),
        CardField(label="Team", value=rich(view.team or "none given")),
        CardField(label="Interests", value=rich(view.interests or "none given")),
    ]
    sections = [Section(fields=tuple(fields))]
    if view.why:
        sections.append(Section(text=rich("Why: “", view.why, "”")))
    buttons: tuple[Button, ...] = ()
    if view.outcome:
        sections.append(Section(text=rich(view.outcome)))
    else:
        buttons = (
            Button(
                label="Approve",
                action_id="ambassador:approve",
                value=view.user_id,
                style="primary",
            ),
            Button(
                label="Decline…",
                action_id="ambassador:decline",
                value=view.user_id,
                style="danger",
            ),
        )
    return Message(
        text=rich(f"🙋 {view.name} asks to join the ambassador program."),
        card=Card(
            title=f"Ambassador request: {view.name}",
            sections=tuple(sections),
            buttons=buttons,
            context=rich(
                "Or type: ambassador approve @person, ambassador decline @person “reason”"
            ),
        ),
    )


def welcome(expectations: str, confirmed: bool = False) -> Message:
    buttons: tuple[Button, ...] = ()
    if not confirmed:
        buttons = (Button(label="I'm in", action_id="ambassador:confirm", style="primary"),)
    return Message(
        text=rich("🎉 Welcome to the ambassador program! Here is what the role asks:"),
        card=Card(
            title="You're an ambassador",
            sections=(
                Section(text=rich(expectations)),
                Section(
                    text=rich(
                        "✅ You're in: your training checklist is on its way."
                        if confirmed
                        else "Press I'm in (or type ambassador confirm) to say you're up for "
                        "it; your training checklist follows."
                    )
                ),
            ),
            buttons=buttons,
        ),
    )


# ----- training -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepView:
    id: int
    number: int  # its position, from 1
    title: str
    link: str | None
    done: bool


def step_text(step: StepView) -> Rich:
    mark = "✅" if step.done else "⬜"
    parts = rich(f"{mark} {step.number}. {step.title}")
    if step.link:
        parts += rich(" (", Link(url=step.link, label="link"), ")")
    return parts


def checklist(track: str, steps: Sequence[StepView], completed: bool) -> Message:
    label = rules.TRACK_LABELS[track]
    done = sum(1 for s in steps if s.done)
    sections = tuple(Section(text=step_text(s)) for s in steps)
    buttons = tuple(
        Button(label=f"Done {s.number}", action_id="training:done", value=f"{track}:{s.id}")
        for s in steps
        if not s.done
    )
    suffix = " manager" if track == rules.MANAGER else ""
    context = (
        rich("🎓 All done: thank you!")
        if completed
        else rich(f"Or type: training done N{suffix}. {done} of {len(steps)} done.")
    )
    return Message(
        text=rich(f"📋 Your {label}: {done} of {len(steps)} steps done."),
        card=Card(
            title=f"Your {label}",
            sections=sections,
            buttons=() if completed else buttons,
            context=context,
        ),
    )


def steps_list(track: str, steps: Sequence[StepView]) -> Message:
    lines = [f"The {rules.TRACK_LABELS[track]} checklist:"]
    if not steps:
        lines.append("no steps yet (training add “Step” adds one).")
    parts = rich("\n".join(lines))
    for step in steps:
        parts += rich("\n") + step_text(step)
    return Message(text=parts)


# ----- community requests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestView:
    number: int
    name: str
    purpose: str
    private: bool
    private_reason: str | None
    status: str
    requester: str
    channel_id: str | None = None
    outcome: str | None = None


def visibility(view: RequestView) -> Rich:
    if view.private:
        return rich("private: “", view.private_reason or "", "”")
    return rich("open")


def review_card(view: RequestView) -> Message:
    fields = (
        CardField(label="Requested by", value=rich(view.requester)),
        CardField(label="Visibility", value=visibility(view)),
        CardField(label="Status", value=rich(STATUS_LABELS.get(view.status, view.status))),
    )
    sections = [
        Section(text=rich("Purpose: “", view.purpose, "”")),
        Section(fields=fields),
    ]
    if view.outcome:
        sections.append(Section(text=rich(view.outcome)))
    buttons: tuple[Button, ...] = ()
    if view.status == "open":
        value = str(view.number)
        buttons = (
            Button(label="Approve", action_id="community:approve", value=value, style="primary"),
            Button(label="Decline…", action_id="community:decline", value=value, style="danger"),
            Button(label="Ask for changes…", action_id="community:changes", value=value),
        )
    return Message(
        text=rich(f"🏘️ {view.requester} requests a community: #{view.name} ({rn(view.number)})."),
        card=Card(
            title=f"Community request {rn(view.number)}: #{view.name}",
            sections=tuple(sections),
            buttons=buttons,
            context=rich(
                f"{rules.STANCE} Or type: community approve {rn(view.number)}, community "
                f"decline {rn(view.number)} “reason”, community changes {rn(view.number)} “what”"
            ),
        ),
    )
