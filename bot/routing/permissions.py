"""What routing lets only some roles do."""

from __future__ import annotations

from bot.roles import Permission, Role

MANAGE_TOPICS = Permission(
    "routing.topics", "manage topics and expert tags", (Role.CURATOR, Role.COMMUNITY_MANAGER)
)
MANAGE_CHANNELS = Permission(
    "routing.channels", "configure help channels", (Role.COMMUNITY_MANAGER,)
)
RESOLVE_ANY = Permission(
    "routing.resolve", "resolve or hand over other people's questions", (Role.COMMUNITY_MANAGER,)
)
ALL = (MANAGE_TOPICS, MANAGE_CHANNELS, RESOLVE_ANY)
