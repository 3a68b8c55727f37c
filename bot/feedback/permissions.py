"""What feedback lets only some roles do."""

from __future__ import annotations

from bot.directory import Person
from bot.events import Event
from bot.roles import Permission, Role, Roles
from bot.work import Work

TRIAGE_FEEDBACK = Permission(
    "feedback.triage",
    "triage feedback (status, owner, category, notes, export)",
    (Role.CURATOR, Role.COMMUNITY_MANAGER),
)


async def triager(roles: Roles, work: Work, event: Event) -> Person:
    """The event's actor, once they are allowed to triage (checked in the unit of work)."""
    actor = await work.person(event.actor, event.actor_profile)
    await roles.require(actor, TRIAGE_FEEDBACK, work.session)
    return actor
