"""Errors the core shows to people: always specific, never a stack trace."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from a person: the message says what was wrong and what is expected."""


class UsageError(UserError):
    """A command was malformed; the message includes its usage and an example."""


class FieldError(UserError):
    """Bad input in one field of a submitted form: shown next to that field where possible."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
