"""What kudos tell the capabilities built on them (recognition, home), as follow-up events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.directory import Person
from bot.ids import WorkspaceRef


@dataclass(frozen=True, slots=True)
class KudosChanged:
    """A kudos counted (+1) or taken back (-1), handled inside the transaction that did it."""

    workspace: WorkspaceRef
    workspace_id: int
    kudos_id: int
    giver: Person
    recipient: Person
    values: tuple[str, ...]
    given_at: datetime  # when the kudos counts from (the periods it falls in)
    delta: int
    event_id: str
