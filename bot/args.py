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
