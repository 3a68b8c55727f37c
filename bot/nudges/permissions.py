"""What only community managers (and admins) may do with nudges."""

from __future__ import annotations

from bot.directory import Person
from bot.events import Event
from bot.roles import Permission, Role, Roles
from bot.work import Work

MANAGE_NUDGES = Permission(
    "nudges.manage",
    "run content campaigns and approve requests to the ambassadors (content, reports, status)",
    (Role.COMMUNITY_MANAGER,),
)


async def manager(roles: Roles, work: Work, event: Event) -> Person:
    """The event's actor, once they may manage nudges (checked in the unit of work)."""
    actor = await work.person(event.actor, event.actor_profile)
    await roles.require(actor, MANAGE_NUDGES, work.session)
    return actor
