"""What kudos say: the messages, in one place, separate from the rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.directory import Person
from bot.ids import UserRef, WorkspaceRef
from bot.messages import (
    Card,
    CardField,
    Inline,
    Link,
    Mention,
    Message,
    Name,
    Rich,
    Section,
    Strong,
    rich,
)
from bot.text import user_text
from store.kudos import KudosStats, Window


def people(persons: Sequence[Person], *, ping: bool) -> Rich:
    """ "Ana", "Ana and Bo", "Ana, Bo and Cy"."""
    parts: list[Inline] = []
    for i, p in enumerate(persons):
        if i:
            parts += rich(" and " if i == len(persons) - 1 else ", ")
        parts.append(Mention(user=p.ref, name=p.name) if ping else Name(user=p.ref, name=p.name))
    return tuple(parts)


def reason(text: str, workspace: WorkspaceRef, names: Mapping[str, str]) -> Rich:
    """The giver's words, with any people they mention shown by name (never pinged)."""

    def name_of(user: UserRef) -> str:
        return names.get(user.id, user.id)

    return user_text(text, workspace, name_of)


def _what_for(said: Rich, reaction: str | None) -> Rich:
    if said:
        return rich(": “", *said, "”")
    if reaction:
        return rich(f" with :{reaction}:")
    return ()


def recipient_dm(giver: Person, said: Rich, reaction: str | None, link: str | None) -> Message:
    text = rich("🎉 ", Name(user=giver.ref, name=giver.name), " gave you kudos")
    text += _what_for(said, reaction)
    if reaction and not said:
        text += rich(" on your message")
    if link:
        text += rich(" ", Link(url=link, label="See the message"))
    return Message(text=text)


def public_post(
    giver: Person,
    recipients: Sequence[Person],
    said: Rich,
    reaction: str | None,
    link: str | None,
    *,
    ping: bool,
) -> Message:
    text = rich("🎉 ", Name(user=giver.ref, name=giver.name), " gave kudos to ")
    text += people(recipients, ping=ping) + _what_for(said, reaction)
    if link:
        text += rich(" ", Link(url=link, label="(message)"))
    return Message(text=text)


def taken_back(giver: Person) -> Message:
    return Message(
        text=rich("Kudos taken back: ", Name(user=giver.ref, name=giver.name), " removed it.")
    )


def took_back(names: Sequence[str]) -> Message:
    return Message(text=rich(f"You took back your kudos to {', '.join(names)}."))


def until(now: datetime, then: datetime) -> str:
    minutes = max(1, int((then - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def allowance_used(
    allowance: int, used: int, wanted: int, now: datetime, resets_at: datetime
) -> str:
    zone = resets_at.tzname() or "your time"
    resets = f"It resets at {resets_at:%H:%M} {zone} (in {until(now, resets_at)})."
    left = allowance - used
    if left <= 0:
        return (
            f"You've used all {allowance} kudos you can give today, so this one didn't count. "
            f"{resets}"
        )
    return (
        f"You have {left} kudos left today but named {wanted} people; nothing was sent. "
        f"Thank fewer people now, or the rest after the reset. {resets}"
    )


def giver_summary(
    given: Sequence[Person], refused: Sequence[str], allowance: int, used: int
) -> Message:
    lines: list[Rich] = []
    if given:
        left = max(0, allowance - used)
        lines.append(
            rich("✅ Kudos sent to ", *people(given, ping=False))
            + rich(f". You have {left} of {allowance} left today.")
        )
    lines += [rich(r) for r in refused]
    text: Rich = ()
    for i, line in enumerate(lines or [rich("Nothing to do.")]):
        text += (rich("\n") if i else ()) + line
    return Message(text=text)


def stats(subject: Person, viewer: Person, st: KudosStats) -> Message:
    whose = "Your" if subject.ref == viewer.ref else f"{subject.name}'s"

    def line(w: Window) -> str:
        return f"{w.week} this week · {w.month} this month · {w.all_time} all time"

    text = rich(
        Strong(text=f"{whose} kudos"),
        f" received: {st.received.week} this week, {st.received.month} this month, "
        f"{st.received.all_time} all time; given: {st.given.week} this week, "
        f"{st.given.month} this month, {st.given.all_time} all time.",
    )
    card = Card(
        title=f"{whose} kudos",
        sections=(
            Section(
                fields=(
                    CardField(label="Received", value=rich(line(st.received))),
                    CardField(label="Given", value=rich(line(st.given))),
                )
            ),
        ),
        context=rich(f"Weeks start on Monday, {viewer.tz.key} time."),
    )
    return Message(text=text, card=card)
