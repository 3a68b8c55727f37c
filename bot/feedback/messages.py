"""What feedback says: cards, DMs, lists and digests, in one place, separate from the rules.

Messages render plain facts (`Item`, `Change`, `View`, built by bot/feedback/views.py), never
store rows, so a schema change stops at the views and never ripples into the wording.

Submitted text always travels as `Plain` (mentions become names, never pings), so nothing a person
writes can ping a channel or inject markup into a triage card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ids import WorkspaceRef
from bot.messages import (
    Button,
    Card,
    CardField,
    Code,
    Link,
    Message,
    Rich,
    Section,
    Strong,
    rich,
)
from bot.text import user_text

USAGE = (
    "TEXT | anonymous TEXT | list [status] [category] [mine] | show FB-42 | vote FB-42 | "
    "status FB-42 STATUS [“note”] | assign FB-42 me|@person | category FB-42 NAME | "
    "note FB-42 TEXT | export [since YYYY-MM-DD]"
)
EXAMPLES = (
    "feedback the onboarding guide skips the VPN setup",
    "feedback status FB-42 planned “in the Q3 plan”",
    "feedback list new",
)

LABELS = {
    "new": "new",
    "acknowledged": "acknowledged",
    "planned": "planned",
    "in_progress": "in progress",
    "done": "done",
    "declined": "declined",
    "duplicate": "duplicate",
}


def fb(number: int) -> str:
    return f"FB-{number}"


def label(status: str) -> str:
    return LABELS.get(status, status)


def said(text: str, workspace: WorkspaceRef, names: Mapping[str, str], limit: int = 0) -> Rich:
    """A person's words as rich text: mentions shown by name, never pinged; clipped to `limit`."""
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return user_text(text, workspace, lambda u: names.get(u.id, u.id))


@dataclass(frozen=True, slots=True)
class Item:
    """What messages say about a feedback item (never who sent it: see `View.submitter`)."""

    id: int  # keys its card and messages
    number: int  # shown as FB-<number>
    text: str
    status: str
    category: str | None
    source_link: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Change:
    """One line of an item's history, its actor already named."""

    kind: str  # created | status | owner | category | merged | note
    at: datetime
    actor: str | None  # None: the submitter (or someone anonymous)
    old: str | None
    new: str | None
    note: str | None
    on_behalf: bool = False  # filed by someone other than the submitter (a reaction)


@dataclass(frozen=True, slots=True)
class View:
    """An item with what its messages show: names resolved, anonymity applied."""

    item: Item
    workspace: WorkspaceRef
    votes: int
    submitter: str | None  # None when anonymous
    owner: str | None
    names: Mapping[str, str]  # mentioned user id -> name
    duplicate_of: int | None = None  # the original's number

    def text(self, limit: int = 0) -> Rich:
        return said(self.item.text, self.workspace, self.names, limit)


def triage_card(view: View) -> Message:
    item = view.item
    fields = [
        CardField(label="Status", value=rich(label(item.status))),
        CardField(label="Category", value=rich(item.category or "none yet")),
        CardField(label="Owner", value=rich(view.owner or "nobody yet")),
        CardField(label="Votes", value=rich(str(view.votes))),
        CardField(label="From", value=rich(view.submitter or "anonymous")),
    ]
    if item.source_link:
        fields.append(
            CardField(label="Source", value=(Link(url=item.source_link, label="message"),))
        )
    if view.duplicate_of is not None:
        fields.append(CardField(label="Duplicate of", value=rich(fb(view.duplicate_of))))
    value = str(item.number)
    buttons: list[Button] = []
    if item.status == "new":
        buttons.append(
            Button(label="Acknowledge", action_id="feedback:ack", value=value, style="primary")
        )
    if item.status in ("new", "acknowledged", "planned", "in_progress"):
        buttons += [
            Button(label="Assign to me", action_id="feedback:assign", value=value),
            Button(label="Set category", action_id="feedback:category", value=value),
            Button(label="Decline…", action_id="feedback:decline", value=value, style="danger"),
            Button(label="Mark duplicate…", action_id="feedback:duplicate", value=value),
            Button(label="+1", action_id="feedback:vote", value=value),
        ]
    title = f"{fb(item.number)}: {label(item.status)} feedback"
    return Message(
        text=rich(f"📝 {fb(item.number)} ({label(item.status)}): ") + view.text(200),
        card=Card(
            title=title,
            sections=(Section(text=view.text(2500)), Section(fields=tuple(fields))),
            buttons=tuple(buttons),
            context=rich(f"Commands work too: feedback status {fb(item.number)} planned “note”"),
        ),
    )


def filed(number: int, anonymous: bool, triage: bool) -> Message:
    where = " The community team will see it" + (" without your name" if anonymous else "")
    return Message(
        text=rich(
            f"✅ Thanks! Your feedback is filed as {fb(number)}.{where}, and I'll message you "
            "whenever its status changes."
            if triage or anonymous
            else f"✅ Thanks! Your feedback is filed as {fb(number)}. I'll message you whenever "
            "its status changes."
        )
    )


def filed_for_author(number: int, by: str, text: Rich, link: str | None) -> Message:
    parts = rich(f"📝 {by} filed your message as feedback {fb(number)}: “") + text + rich("”.")
    if link:
        parts += rich(" ", Link(url=link, label="See the message"))
    return Message(text=parts + rich(" I'll message you whenever its status changes."))


def status_dm(view: View, note: str | None, by: str, *, voter: bool) -> Message:
    item = view.item
    whose = "you voted for" if voter else "you sent"
    text = rich(
        f"📣 Update on {fb(item.number)}, the feedback {whose} (“",
        *view.text(120),
        "”): it is now ",
        Strong(text=label(item.status)),
        ".",
    )
    if note:
        text += rich(f" {by} says: “", *said(note, view.workspace, view.names), "”")
    if item.status in ("done", "declined", "duplicate"):
        text += rich(" Thank you for speaking up.")
    return Message(text=text)


def merged_dm(old: View, original: View, note: str | None, by: str) -> Message:
    text = rich(
        f"🔗 {fb(old.item.number)} (“",
        *old.text(120),
        f"”) is a duplicate of {fb(original.item.number)} (“",
        *original.text(120),
        "”). You now follow that one and count as one of its votes.",
    )
    if note:
        text += rich(f" {by} says: “", *said(note, old.workspace, old.names), "”")
    return Message(text=text)


def reminder(views: Sequence[View], days: int, owner: bool) -> Message:
    lines = rich(
        f"⏰ Feedback waiting for an answer for more than {days} working day"
        f"{'s' if days != 1 else ''}" + (" (you own it)" if owner else "") + ":"
    )
    for view in views:
        lines += rich("\n• ", Strong(text=fb(view.item.number)), " ") + view.text(150)
    lines += rich(
        "\nAcknowledge it: ", Code(text=f"feedback status {fb(views[0].item.number)} ack")
    )
    return Message(text=lines)


def daily_summary(views: Sequence[View], days: int) -> Message:
    text = rich(
        Strong(text=f"Feedback not acknowledged within {days} working days: {len(views)}"),
    )
    for view in views:
        who = f" · owner {view.owner}" if view.owner else " · no owner"
        text += rich(f"\n• {fb(view.item.number)} ({votes(view.votes)}{who}) ") + view.text(150)
    return Message(text=text)


@dataclass(frozen=True, slots=True)
class Digest:
    start: datetime
    end: datetime
    new_by_category: Mapping[str, int]
    top: Sequence[View]
    closed: Sequence[tuple[View, str]]  # with the outcome note
    median_ack: float | None  # hours
    median_close: float | None


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 24:.1f} days" if value >= 48 else f"{value:.1f} h"


def digest(d: Digest, tz: ZoneInfo) -> Message:
    period = f"{d.start.astimezone(tz):%d %b} to {d.end.astimezone(tz):%d %b %Y}"
    new_total = sum(d.new_by_category.values())
    by_cat = ", ".join(f"{c}: {n}" for c, n in d.new_by_category.items()) or "none"
    top: Rich = ()
    for view in d.top:
        top += rich(f"{fb(view.item.number)} ({votes(view.votes)}) ") + view.text(100) + rich("\n")
    closed: Rich = ()
    for view, note in d.closed:
        closed += rich(f"{fb(view.item.number)} {label(view.item.status)}: ") + view.text(80)
        if note:
            closed += rich(" → “", *said(note, view.workspace, view.names, 150), "”")
        closed += rich("\n")
    times = f"to acknowledge {_hours(d.median_ack)}, to close {_hours(d.median_close)}"
    return Message(
        text=rich(f"📊 Feedback digest {period}: {new_total} new, {len(d.closed)} closed."),
        card=Card(
            title=f"Feedback digest, {period}",
            sections=(
                Section(
                    fields=(
                        CardField(label="New items", value=rich(f"{new_total} ({by_cat})")),
                        CardField(label="Median time", value=rich(times)),
                    )
                ),
                Section(text=rich(Strong(text="Most voted open items\n")) + (top or rich("none"))),
                Section(
                    text=rich(Strong(text="Closed, with outcomes\n")) + (closed or rich("none"))
                ),
            ),
        ),
    )


def item_list(views: Sequence[View], heading: str) -> Message:
    if not views:
        return Message(text=rich(f"{heading}: nothing."))
    text = rich(Strong(text=heading))
    for view in views:
        cat = f" [{view.item.category}]" if view.item.category else ""
        text += rich(
            f"\n• {fb(view.item.number)} {label(view.item.status)}{cat} · {votes(view.votes)} · "
        ) + view.text(120)
    return Message(text=text)


def history(view: View, changes: Sequence[Change], tz: ZoneInfo) -> Message:
    item = view.item
    head = rich(
        Strong(text=f"{fb(item.number)} · {label(item.status)}"),
        f" · category {item.category or 'none'} · owner {view.owner or 'nobody'} · "
        f"{votes(view.votes)}\n“",
        *view.text(),
        "”",
    )
    if item.source_link:
        head += rich(" ", Link(url=item.source_link, label="source"))
    lines: Rich = ()
    for change in changes:
        when = f"{change.at.astimezone(tz):%Y-%m-%d %H:%M}"
        who = change.actor or "the submitter"
        match change.kind:
            case "created":
                what = f"filed by {view.submitter or 'someone (anonymous)'}"
                if change.on_behalf:
                    what += f" (via {who}'s reaction)"
            case "status":
                what = f"{who}: {label(change.old or '')} → {label(change.new or '')}"
            case "owner":
                what = f"{who} assigned it to {change.new}"
            case "category":
                what = f"{who} set the category to {change.new}"
            case "merged":
                what = f"{who} merged {change.new} into it"
            case _:
                what = f"note by {who}"
        lines += rich(f"\n{when} {what}")
        if change.note:
            lines += rich(": “", *said(change.note, view.workspace, view.names, 300), "”")
    if view.duplicate_of is not None:
        lines += rich(f"\nDuplicate of {fb(view.duplicate_of)}.")
    return Message(text=head + rich(f"\nHistory ({tz.key} time):") + lines)


def votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"
