"""Logging: plain lines for people (the default), or one JSON object per line for log pipelines
(LOG_FORMAT=json); in both, what the line is about (bot/logcontext.py) and no secrets.

A JSON line carries `timestamp` (UTC, ISO 8601), `level`, `logger`, `message`, `pid`, the
context fields known when it was logged (`request_id`, `platform`, `event_id`, `workspace`,
`inbox_id`, `job_id`, `job_kind`), and `exception` with the traceback when there is one.

`RedactSecrets` masks what must never reach a log, in the message, the traceback and the stack:
Slack tokens (xoxb-, xoxp-, xapp-, ...), `Bearer ...` values, JSON web tokens, and the
configured secrets themselves (the signing secret, the app password, the bot and app tokens,
the metrics token, the database password), wherever they appear.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from bot import logcontext
from bot.settings import Settings

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "[redacted]"
MIN_SECRET = 6  # shorter configured values would mask ordinary words
_CONTEXT = "allybot_context"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack: bot, user, app-level, refresh and legacy tokens.
    (re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+"), rf"\1-{MASK}"),
    (re.compile(r"\b(bearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1 {MASK}"),
    # JSON web tokens (the Bot Framework's, Azure AD's): header.payload[.signature].
    (re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"), MASK),
)


def secrets_of(settings: Settings) -> list[str]:
    """Every configured value that must never be logged."""
    found = [
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.microsoft_app_password,
        settings.metrics_token,
    ]
    with contextlib.suppress(Exception):  # the URL was validated already
        found.append(make_url(settings.db_url).password)
    return [s for s in found if s]


class RedactSecrets(logging.Filter):
    """Masks secrets in a record before any formatter sees it (as a handler's filter)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first: one secret may contain another.
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            masked = self.redact(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and not record.exc_text:
                record.exc_text = _FORMATTER.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.redact(record.exc_text)
            if record.stack_info:
                record.stack_info = self.redact(record.stack_info)
        except Exception:  # a bad format string: the handler reports it, as without us
            pass
        return True


class AddContext(logging.Filter):
    """Stamps the record with the context it was logged in (formatting may happen later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, _CONTEXT):
            setattr(record, _CONTEXT, dict(logcontext.current()))
        return True


def _context(record: logging.LogRecord) -> Mapping[str, str]:
    found = getattr(record, _CONTEXT, None)
    return found if isinstance(found, dict) else logcontext.current()


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger: message [context]`, for people."""

    def __init__(self) -> None:
        super().__init__(PLAIN)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        context = _context(record)
        if not context:
            return text
        return f"{text} [{' '.join(f'{k}={v}' for k, v in context.items())}]"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "timestamp": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name, value in _context(record).items():
            entry.setdefault(name, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_FORMATTER = logging.Formatter()


def handler(settings: Settings) -> logging.Handler:
    """A stderr handler in the configured format, with context and redaction."""
    out = logging.StreamHandler()
    out.addFilter(AddContext())
    out.addFilter(RedactSecrets(secrets_of(settings)))
    out.setFormatter(JsonFormatter() if settings.log_format == "json" else PlainFormatter())
    return out


def configure(settings: Settings, *, quiet: bool = False, force: bool = False) -> None:
    """The process's logging, from LOG_LEVEL and LOG_FORMAT. `quiet` (the console, whose
    transcript is the output) keeps INFO lines out; `force` replaces handlers already there
    (by default, like logging.basicConfig, a process that configured logging keeps it)."""
    level = settings.log_level.upper()
    logging.basicConfig(
        level="WARNING" if quiet and level == "INFO" else level,
        handlers=[handler(settings)],
        force=force,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
