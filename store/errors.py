"""Telling "the database can't be reached right now" apart from every other failure.

An outage (PostgreSQL stopped, restarting or refusing connections; a connection cut in the
middle of a transaction; no pooled connection to be had) is not a bug in the request that met
it: the same request succeeds once the database is back. The store raises `DatabaseUnavailable`
for it, so the core and the adapters can answer "try again" (an HTTP 503 the platform retries,
a friendly line for a person) without knowing asyncpg's or SQLAlchemy's exceptions.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class DatabaseUnavailable(Exception):
    """The database could not be reached, or the connection was lost; nothing was committed by
    the transaction that met it (a commit cut short may still have been applied: redeliveries
    are deduplicated, so retrying is safe)."""

    @classmethod
    def from_error(cls, exc: BaseException) -> DatabaseUnavailable:
        """A new one (to raise `from exc`) saying in one line what the driver said."""
        return cls(str(exc) if isinstance(exc, DatabaseUnavailable) else describe(exc))


# PostgreSQL's SQLSTATEs for "not now": class 08 (connection exception), and admin_shutdown,
# crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections.
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _sqlstate(exc: BaseException) -> str:
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else ""


def is_unavailable(exc: BaseException, *, connecting: bool = False) -> bool:
    """Whether `exc` means the database is out of reach rather than the statement wrong.

    `connecting`: raised while checking a connection out of the pool, where a plain OSError
    (connection refused, no route, a DNS failure) or a connect timeout can only be the
    database's. Inside a transaction an OSError may be anything else's (a platform call), so
    there only the driver's own errors count.
    """
    if isinstance(exc, DatabaseUnavailable | PoolTimeout):
        return True
    if connecting and isinstance(exc, OSError):  # TimeoutError and ConnectionError included
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy recognised a disconnect
            return True
        exc = exc.orig if exc.orig is not None else exc
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the driver's error and its causes
        seen.add(id(current))
        state = _sqlstate(current)
        if state.startswith("08") or state in _UNAVAILABLE_STATES:
            return True
        current = current.__cause__
    return False


def describe(exc: BaseException) -> str:
    """A one-line reason for logs and the exception's message (no traceback)."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if not isinstance(exc, DatabaseUnavailable) and inner.__cause__ is not None:
        inner = inner.__cause__  # the driver's own (asyncpg's), not SQLAlchemy's adaptation
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0] if text else ''}".rstrip(": ")
