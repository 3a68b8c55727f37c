"""Splitting command arguments: quoted phrases stay together, as people expect."""

from __future__ import annotations

import shlex

from bot.errors import UsageError

# Slack and Teams turn straight quotes into typographic ones as people type.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"'})


def split_args(text: str) -> list[str]:
    lexer = shlex.shlex(text.translate(_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = '"'  # apostrophes ("Bo's demo") are text, not quotes
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError as exc:
        raise UsageError(
            f"I couldn't read that: {exc}. Put phrases in matching quotes, "
            'like "finished the onboarding track".'
        ) from exc


def whole_number(text: str, low: int, high: int, *, what: str = "N", usage: str = "") -> int:
    """The one parser for a number someone typed: ASCII digits 0-9 only, from `low` to `high`.

    `str.isdigit()` alone accepts "²" and "①", which `int()` then rejects with a ValueError, and
    `int()` reads other scripts' digits ("١٢") that nobody meant as a number here; a length cap
    keeps `int()` off a 5,000-digit string (it raises past 4,300 digits). A bad value is a
    UsageError naming what was expected (then `usage`, on its own line), never a traceback.
    """
    value = text.strip()
    if (
        not value
        or not (value.isascii() and value.isdigit())
        or len(value.lstrip("0")) > len(str(high))
        or not low <= int(value) <= high
    ):
        more = f"\n{usage}" if usage else ""
        raise UsageError(f"{what} must be a whole number from {low} to {high}, not “{text}”.{more}")
    return int(value)
