"""Feedback as CSV, for spreadsheets: anonymity kept, formula injection defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.feedback.messages import View, fb, label

COLUMNS = (
    "id",
    "created",
    "status",
    "category",
    "votes",
    "submitter",
    "owner",
    "source",
    "text",
    "acknowledged",
    "closed",
    "latest note",
)


def _cell(value: str) -> str:
    # A leading =, +, - or @ makes spreadsheets evaluate the cell: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M}" if value is not None else ""


def to_csv(views: Sequence[View], notes: Mapping[int, str], tz: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for view in views:
        item = view.item

        writer.writerow(
            _cell(v)
            for v in (
                fb(item.number),
                _when(item.created_at, tz),
                label(item.status),
                item.category or "",
                str(view.votes),
                view.submitter or "anonymous",
                view.owner or "",
                item.source_link or "",
                item.text,
                _when(item.acknowledged_at, tz),
                _when(item.closed_at, tz),
                notes.get(item.id, ""),
            )
        )
    return out.getvalue()
