"""Where to reach a Teams tenant: its Bot Connector service URL and the bot's id there."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.ids import UserRef

_ROUTE_MEMO_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Route:
    """A person's private chat with the bot. The core stores it as an opaque string (`encode`);
    only this adapter knows what is inside."""

    conversation_id: str
    service_url: str | None = None
    bot_id: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {
                "conversation_id": self.conversation_id,
                "service_url": self.service_url,
                "bot_id": self.bot_id,
            }
        )

    @classmethod
    def decode(cls, address: str | None) -> Route | None:
        """None for nothing stored or anything unreadable (then a fresh chat is opened)."""
        try:
            fields = json.loads(address) if address else None
        except ValueError:
            return None
        if not isinstance(fields, dict) or not isinstance(fields.get("conversation_id"), str):
            return None

        def text(key: str) -> str | None:
            value = fields.get(key)
            return value if isinstance(value, str) and value else None

        return cls(fields["conversation_id"], text("service_url"), text("bot_id"))


@dataclass(frozen=True, slots=True)
class Address:
    service_url: str
    bot_id: str | None


class Addresses:
    """Per-tenant addresses learnt from inbound activities, in memory.

    Every activity refreshes the entry (Microsoft may move a tenant to another service URL), so
    proactive sends follow the latest one. It is only a cache: after a restart the port falls back
    to the routes the directory stored, which survive in the database.
    """

    def __init__(self) -> None:
        self._by_tenant: dict[str, Address] = {}
        self._routes: dict[UserRef, Route] = {}

    def remember(self, tenant: str, service_url: str, bot_id: str | None) -> None:
        known = self._by_tenant.get(tenant)
        # Keep a known bot id when an activity omits the recipient (some invokes do).
        self._by_tenant[tenant] = Address(service_url, bot_id or (known.bot_id if known else None))

    def get(self, tenant: str) -> Address | None:
        return self._by_tenant.get(tenant)

    # Personal routes as last stored, so the adapter can skip rewriting an unchanged one on every
    # message; the port notes the chats it opens, so this never hides a change.
    def route_unchanged(self, user: UserRef, route: Route) -> bool:
        return self._routes.get(user) == route

    def note_route(self, user: UserRef, route: Route) -> None:
        if len(self._routes) >= _ROUTE_MEMO_LIMIT:
            self._routes.clear()
        self._routes[user] = route
