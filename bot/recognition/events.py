"""Recognition's follow-up events."""

from __future__ import annotations

from dataclasses import dataclass

from bot.directory import Person


@dataclass(frozen=True, slots=True)
class RecognitionChanged:
    """Someone's kudos, badges or rank changed: their home view is out of date."""

    people: tuple[Person, ...]
    because: str  # the event or award that changed it (keys the refresh job)
