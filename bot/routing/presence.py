"""The platform's own signals: Do Not Disturb and an away status (Slack's dnd.info and profile
status), read only from ports that implement PresenceReader, outside any transaction, and
cached briefly so that routing stays fast and within the platform's API tiers."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.ids import UserRef
from bot.ports import ChatPort, Presence, PresenceReader

log = logging.getLogger(__name__)

TTL = timedelta(minutes=2)
DEFAULT_AWAY_WORDS: tuple[str, ...] = (
    "out of office",
    "ooo",
    "vacation",
    "vacationing",
    "holiday",
    "on leave",
    "pto",
    "sick",
    "palm_tree",
    "face_with_thermometer",
)
_MAX_ENTRIES = 50_000


class PresenceCache:
    def __init__(self, ports: Mapping[str, ChatPort], clock: Clock) -> None:
        self._ports = ports
        self._clock = clock
        self._entries: dict[UserRef, tuple[datetime, Presence | None]] = {}

    async def read(self, users: Iterable[UserRef]) -> dict[UserRef, Presence | None]:
        """Each person's presence (None: the platform could not say, or has no such signal)."""
        now = self._clock.now()
        out: dict[UserRef, Presence | None] = {}
        wanted: list[UserRef] = []
        for user in dict.fromkeys(users):
            hit = self._entries.get(user)
            if hit is not None and hit[0] > now:
                out[user] = hit[1]
            elif isinstance(self._ports.get(user.workspace.platform), PresenceReader):
                wanted.append(user)
            else:
                out[user] = None
        if wanted:
            found = await asyncio.gather(*(self._ask(u) for u in wanted))
            if len(self._entries) > _MAX_ENTRIES:
                self._entries.clear()
            for user, presence in zip(wanted, found, strict=True):
                self._entries[user] = (now + TTL, presence)
                out[user] = presence
        return out

    def known(self) -> dict[UserRef, Presence | None]:
        """What is cached and fresh, without asking (decisions inside a unit of work)."""
        now = self._clock.now()
        return {u: p for u, (until, p) in self._entries.items() if until > now}

    async def _ask(self, user: UserRef) -> Presence | None:
        port = self._ports.get(user.workspace.platform)
        if not isinstance(port, PresenceReader):
            return None
        try:
            return await port.presence(user)
        except Exception:  # a nicety: without it, working hours still protect people
            log.warning("presence look-up failed for %s", user, exc_info=True)
            return None


def away(presence: Presence | None, words: Iterable[str]) -> str | None:
    """Why the platform says not to disturb them now, or None."""
    if presence is None:
        return None
    if presence.do_not_disturb:
        return "in Do Not Disturb"
    status = f"{presence.status_text} {presence.status_emoji.replace('-', '_')}".lower()
    for word in words:
        if word and re.search(rf"(?<![\w]){re.escape(word.lower())}(?![\w])", status):
            shown = presence.status_text or f":{presence.status_emoji}:"
            return f"away (status “{shown}”)"
    return None
