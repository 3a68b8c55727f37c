"""What a log line is about: the request, event, job and workspace being handled, carried in a
context variable so every line logged while handling them says so (bot/logs.py writes them).

The door opens a scope per request (adapters/observability.py), the inbox's workers one per
event and the scheduler one per job; `bind` adds what becomes known inside a scope (the event
id and workspace once the adapter translated the payload). Outside any scope `bind` does
nothing, so code driven directly (tests, the console) leaves no context behind.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# One dict per scope. `bind` changes it in place, so what a handler learns (an event id) is
# seen by the code that opened the scope when it logs the outcome.
_fields: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "allybot_log_fields", default=None
)


@contextmanager
def scope(**fields: object) -> Iterator[None]:
    """A new scope: the enclosing one's fields, plus `fields` (None values are left out)."""
    inherited = _fields.get() or {}
    token = _fields.set({**inherited, **_clean(fields)})
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: object) -> None:
    """Adds `fields` to the current scope, if there is one."""
    current = _fields.get()
    if current is not None:
        current.update(_clean(fields))


def current() -> Mapping[str, str]:
    return _fields.get() or {}


def _clean(fields: Mapping[str, object]) -> dict[str, str]:
    return {name: str(value) for name, value in fields.items() if value is not None}


def new_context(**fields: object) -> contextvars.Context:
    """A copy of the current context with a scope of its own: for a task (`asyncio.create_task(
    ..., context=...)`) whose lines are about `fields`, e.g. one job's run."""
    context = contextvars.copy_context()
    context.run(_fields.set, {**(_fields.get() or {}), **_clean(fields)})
    return context
