"""What every capability gets: one place to wire settings, storage, time and the ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.clock import Clock
from bot.delivery import Delivery
from bot.directory import Directory
from bot.ids import Platform
from bot.ports import Capabilities, ChatPort
from bot.scheduler import Scheduler
from bot.settings import Settings
from store import Database

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

    def capabilities(self, platform: Platform) -> Capabilities:
        port = self.ports.get(platform)
        return port.capabilities if port is not None else DEFAULT_CAPABILITIES
