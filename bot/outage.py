"""What the core says and does while its database can't be reached (issue 12).

Nothing is acknowledged that wasn't committed, so during an outage the door refuses: events get
an HTTP 503 with Retry-After (the platform delivers them again; the inbox deduplicates), and a
person who typed a command is told to try again in a minute. The workers wait with a backoff
and carry on by themselves when the database answers again. Each outage is logged once, as a
WARNING, and its end once, not a traceback per request or per poll.
"""

from __future__ import annotations

import logging

from store import DatabaseUnavailable, is_unavailable

__all__ = [
    "RETRY_AFTER",
    "UNAVAILABLE",
    "DatabaseUnavailable",
    "OutageLog",
    "backoff",
    "is_unavailable",
]

# What a person sees instead of the answer to their command, on every platform.
UNAVAILABLE = (
    "Allybot is temporarily unavailable (its database can't be reached right now), so nothing "
    "was changed. Please try again in a minute."
)
RETRY_AFTER = 60  # seconds, the Retry-After of the door's 503s
BACKOFF_FIRST = 0.5  # seconds a worker waits after its first failed attempt, doubled each time
BACKOFF_MAX = 5.0  # and at most: the workers' idle poll, so they resume as promptly as ever


def backoff(failures: int) -> float:
    """How long to wait after `failures` failed attempts in a row."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** max(0, failures - 1))


class OutageLog:
    """Logs an outage once when it starts (`down`) and once when it ends (`up`, at the same
    level, so whoever saw the one sees the other), for one part of the process (the door, the
    inbox workers, the jobs worker)."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self.down_since: str | None = None  # the reason, while the database is away

    def down(self, exc: BaseException) -> None:
        if self.down_since is None:
            self.down_since = str(exc) or type(exc).__name__
            self._log.warning(
                "%s: the database is unreachable (%s); retrying until it is back",
                self._what,
                self.down_since,
            )
        else:
            self._log.debug("%s: the database is still unreachable: %s", self._what, exc)

    def up(self) -> None:
        if self.down_since is not None:
            self.down_since = None
            self._log.warning("%s: the database is reachable again", self._what)
