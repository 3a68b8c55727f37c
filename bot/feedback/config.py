"""Feedback's workspace settings, declared in bot/feedback/capability.py for `config`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.args import whole_number
from bot.errors import UsageError
from store import feedback as fb_store

KEYS = (
    "feedback-channel",
    "leaders-channel",
    "feedback-categories",
    "feedback-reaction",
    "feedback-aging",
)
USAGE = (
    "feedback-channel here|#channel|off | leaders-channel here|#channel|off | "
    "feedback-categories NAME ... | feedback-reaction EMOJI|off | feedback-aging DAYS"
)
DEFAULT_CATEGORIES = ("product", "docs", "community", "events", "other")
DEFAULT_AGING_DAYS = 2
_CATEGORY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


@dataclass(frozen=True, slots=True)
class FeedbackConfig:
    triage_channel: str | None
    leaders_channel: str | None
    reaction: str | None
    aging_days: int
    categories: tuple[str, ...]


async def load(session: AsyncSession, workspace_id: int) -> FeedbackConfig:
    row = await fb_store.get_settings(session, workspace_id)
    categories = await fb_store.get_categories(session, workspace_id)
    return FeedbackConfig(
        triage_channel=row.triage_channel if row else None,
        leaders_channel=row.leaders_channel if row else None,
        reaction=row.reaction if row else None,
        aging_days=(row.aging_days if row and row.aging_days else DEFAULT_AGING_DAYS),
        categories=tuple(categories) or DEFAULT_CATEGORIES,
    )


async def apply(
    session: AsyncSession,
    workspace_id: int,
    key: str,
    value: str,
    channel: Callable[[str], str | None],
    now: datetime,
) -> None:
    """Saves one setting; `channel` turns `here`, `#channel` or `off` into a channel id."""
    if key == "feedback-categories":
        names = [n.strip(",").lower() for n in value.split()]
        names = [n for n in names if n]
        bad = [n for n in names if not _CATEGORY.fullmatch(n)]
        if not names or bad or len(names) > 25:
            raise UsageError(
                (f"“{bad[0]}” is not a category name; " if bad else "")
                + "expected 1 to 25 single words (letters, digits, - or _), "
                "e.g. config feedback-categories product docs events"
            )
        await fb_store.set_categories(session, workspace_id, names)
        return
    row = await fb_store.settings_row(session, workspace_id, now)
    if key == "feedback-channel":
        row.triage_channel = channel(value)
    elif key == "leaders-channel":
        row.leaders_channel = channel(value)
    elif key == "feedback-reaction":
        name = value.strip().strip(":")
        if not name or " " in name:
            raise UsageError("Name one reaction, or off, e.g. config feedback-reaction memo")
        row.reaction = None if name.lower() in ("off", "none") else name
    elif key == "feedback-aging":
        row.aging_days = whole_number(
            value,
            1,
            30,
            what="The reminder delay (working days)",
            usage="Example: config feedback-aging 2",
        )


def show(config: FeedbackConfig, key: str) -> str:
    """One setting's current value, as `config` lists it."""
    match key:
        case "feedback-channel":
            return f"Feedback triage channel: {config.triage_channel or 'off'}"
        case "leaders-channel":
            return f"Leaders' channel: {config.leaders_channel or 'off'}"
        case "feedback-categories":
            return f"Feedback categories: {', '.join(config.categories)}"
        case "feedback-reaction":
            return f"Feedback reaction: {config.reaction or 'off'}"
        case _:
            return f"Feedback reminder after {config.aging_days} working days"
