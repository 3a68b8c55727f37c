"""The kernel every capability gets: settings, storage, time, the ports and the unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bot.clock import Clock
from bot.delivery import Delivery
from bot.directory import Directory
from bot.events import Event
from bot.ids import Platform, UserRef, WorkspaceRef
from bot.ports import Capabilities, ChatPort
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.work import UnitOfWork, Work
from store import Database

T = TypeVar("T")

# Used when a platform has no port running (e.g. tests driving the core directly).
DEFAULT_CAPABILITIES = Capabilities(
    ephemeral=False, reactions_on_any_message=True, command_prefix="/ally "
)


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    ports: Mapping[str, ChatPort]
    directory: Directory
    scheduler: Scheduler
    delivery: Delivery
    uow: UnitOfWork

    def capabilities(self, platform: Platform) -> Capabilities:
        port = self.ports.get(platform)
        return port.capabilities if port is not None else DEFAULT_CAPABILITIES

    async def run(
        self,
        event: Event,
        fn: Callable[[Work], Awaitable[T]],
        *,
        people: Iterable[UserRef] = (),
    ) -> T:
        """One unit of work for `event`: its actor and `people` resolved, hints applied."""
        users = [event.actor, *people]
        hints = self.directory.hints(event.profiles, users)
        if event.actor_profile is not None:
            hints[event.actor] = event.actor_profile
        return await self.uow.run(
            event.workspace, fn, event_id=event.event_id, people=users, hints=hints
        )

    async def run_in(self, workspace: WorkspaceRef, fn: Callable[[Work], Awaitable[T]]) -> T:
        """A unit of work with no inbound event (scheduled jobs, reads)."""
        return await self.uow.run(workspace, fn)
