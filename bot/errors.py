"""Errors the core shows to people: always specific, never a stack trace."""

from __future__ import annotations

from bot.messages import Rich


class UserError(Exception):
    """Bad input from a person: the message says what was wrong and what is expected.

    `text`, when given, is how people see it (e.g. with a channel named as a link); the plain
    message is for logs and form fields."""

    def __init__(self, message: str = "", *, text: Rich | None = None) -> None:
        super().__init__(message)
        self.text = text


class UsageError(UserError):
    """A command was malformed; the message includes its usage and an example."""


class FieldError(UserError):
    """Bad input in one field of a submitted form: shown next to that field where possible."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
