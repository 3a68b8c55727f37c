"""What every capability gets: one place to wire settings, storage, time and the ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.delivery import Delivery
from bot.directory import Directory, Person
from bot.ids import Platform, WorkspaceRef
from bot.ports import Capabilities, ChatPort
from bot.scheduler import Scheduler
from bot.settings import Settings
from store import Database

# Used when a platform has no port running (e.g. tests driving the core directly).
DEFAULT_CAPABILITIES = Capabilities(
    ephemeral=False, reactions_on_any_message=True, command_prefix="/ally "
)


@dataclass(frozen=True, slots=True)
class KudosChange:
    """A kudos counted (+1) or taken back (-1), seen by listeners inside its transaction."""

    workspace: WorkspaceRef
    workspace_id: int
    kudos_id: int
    giver: Person
    recipient: Person
    values: tuple[str, ...]
    given_at: datetime  # when the kudos counts from (the periods it falls in)
    delta: int
    event_id: str


KudosListener = Callable[[AsyncSession, KudosChange], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    ports: Mapping[str, ChatPort]
    directory: Directory
    scheduler: Scheduler
    delivery: Delivery
    # Capabilities that build on kudos (recognition) listen here, inside the kudos transaction.
    kudos_listeners: list[KudosListener] = field(default_factory=list)

    def capabilities(self, platform: Platform) -> Capabilities:
        port = self.ports.get(platform)
        return port.capabilities if port is not None else DEFAULT_CAPABILITIES
