"""Feedback's rules, with no I/O: the status machine, and what a valid id, text or note is.

Every item moves only along `NEXT`; an item is closed (done, declined, duplicate) only with a
message to its submitter, and a duplicate names the item it duplicates.
"""

from __future__ import annotations

import re

from bot.args import whole_number
from bot.errors import FieldError, UsageError, UserError
from bot.feedback.messages import EXAMPLES, fb, label

MAX_TEXT = 4000
MAX_NOTE = 2000
STATUSES = ("new", "acknowledged", "planned", "in_progress", "done", "declined", "duplicate")
CLOSING = ("done", "declined", "duplicate")
OPEN = tuple(s for s in STATUSES if s not in CLOSING)
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "declined", "duplicate"),
    "acknowledged": ("planned", "in_progress", "declined", "duplicate"),
    "planned": ("in_progress", "done", "declined"),
    "in_progress": ("planned", "done", "declined"),
    "done": (),
    "declined": (),
    "duplicate": (),
}
STATUS_WORDS = {
    "new": "new",
    "ack": "acknowledged",
    "acknowledge": "acknowledged",
    "acknowledged": "acknowledged",
    "plan": "planned",
    "planned": "planned",
    "in-progress": "in_progress",
    "in_progress": "in_progress",
    "progress": "in_progress",
    "started": "in_progress",
    "done": "done",
    "decline": "declined",
    "declined": "declined",
    "duplicate": "duplicate",
    "dup": "duplicate",
}
# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_ID = re.compile(r"(?:fb-?|#)?([0-9]{1,9})", re.IGNORECASE)
_QUOTES = ('"', "\u201c", "\u201d", "'", "\u2018", "\u2019")


def parse_number(token: str) -> int:
    """FB-42, fb42, #42 or 42 -> 42."""
    token = token.strip()
    if not token:
        raise UsageError("Which item? Name it like FB-42 (feedback list shows them).")
    match = _ID.fullmatch(token)
    if not match:
        raise UsageError(
            f"“{token}” is not a feedback id; expected one like FB-42 (feedback list shows them)."
        )
    return whole_number(match.group(1), 1, 999_999_999, what="A feedback number")


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise FieldError(
            "text",
            "Your feedback is empty. Say what you'd like the community team to know, e.g. "
            f"{EXAMPLES[0]}",
        )
    if len(text) > MAX_TEXT:
        raise FieldError(
            "text",
            f"Your feedback is {len(text):,} characters long; keep it to {MAX_TEXT:,} or fewer "
            "(split it into several items).",
        )
    return text


def checked_note(note: str | None, field: str = "note") -> str | None:
    note = unquote(note or "") or None
    if note and len(note) > MAX_NOTE:
        raise FieldError(
            field, f"That note is {len(note):,} characters long; keep it to {MAX_NOTE:,} or fewer."
        )
    return note


def checked_request(number: int, status: str, note: str | None, original: str | None) -> int | None:
    """Checks what a status change asks for, before anything is read; returns the number of
    the item a duplicate duplicates."""
    if status == "declined" and not note:
        raise UserError(
            f"Declining {fb(number)} needs a reason for its submitter, e.g. "
            f"feedback status {fb(number)} declined “we're keeping the current format”"
        )
    if status in CLOSING and not note:
        raise UserError(
            f"Closing {fb(number)} as {label(status)} needs a message to its submitter, e.g. "
            f"feedback status {fb(number)} {status}"
            + (" FB-12" if status == "duplicate" else "")
            + " “what happened”"
        )
    if status == "duplicate" and not original:
        raise UsageError(
            f"Which item is {fb(number)} a duplicate of? e.g. feedback status {fb(number)} "
            "duplicate FB-12 “tracked there”"
        )
    return parse_number(original) if original else None


def check_transition(
    number: int, current: str, status: str, original_number: int | None = None
) -> None:
    """Refuses a move `NEXT` does not allow, saying where the item can go instead."""
    if current == status:
        raise UserError(f"{fb(number)} is already {label(status)}.")
    allowed = NEXT[current]
    if status not in allowed:
        raise UserError(
            f"{fb(number)} is {label(current)}, so it can't become {label(status)}"
            + (
                f"; from {label(current)} it can go to {', '.join(label(s) for s in allowed)}."
                if allowed
                else ": it is closed, and closed items keep their status."
            )
        )
    if original_number == number:
        raise UserError(f"{fb(number)} can't be a duplicate of itself.")
