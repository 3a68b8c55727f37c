"""What every part of the program shares: who runs it (the permission and the recipients of
review cards), its settings with their defaults, and telling people."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.ambassadors import rules
from bot.directory import Person
from bot.events import Event
from bot.ids import UserRef
from bot.messages import Message, Outbound, ToUser
from bot.roles import Permission, Role, Roles
from bot.services import Services
from bot.work import Work
from store import ambassadors as amb_store
from store.models import Member

log = logging.getLogger(__name__)

MANAGE = Permission(
    "ambassadors.manage",
    "run the ambassador program (roster, offices, training, community requests)",
    (Role.COMMUNITY_MANAGER,),
)


@dataclass(frozen=True, slots=True)
class Config:
    expectations: str
    target: int
    reminder_days: int


class Program:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    async def actor(self, work: Work, event: Event) -> Person:
        return await work.person(event.actor, event.actor_profile)

    async def manager(self, work: Work, event: Event) -> Person:
        """The event's actor, once they may run the program (checked in the unit of work)."""
        actor = await self.actor(work, event)
        await self.roles.require(actor, MANAGE, work.session)
        return actor

    async def is_manager(self, work: Work, person: Person) -> bool:
        return await self.roles.can(person, MANAGE, work.session)

    async def managers(self, work: Work) -> list[Member]:
        """Everyone who reviews requests: community managers and admins."""
        return [m for m in await self.roles.members_who_can(work, MANAGE) if not m.is_bot]

    async def config(self, work: Work) -> Config:
        row = await amb_store.settings(work.session, work.ws_id)
        return Config(
            expectations=(row.expectations if row and row.expectations else None)
            or rules.DEFAULT_EXPECTATIONS,
            target=row.target_per_office if row and row.target_per_office else rules.DEFAULT_TARGET,
            reminder_days=row.reminder_days
            if row and row.reminder_days
            else rules.DEFAULT_REMINDER_DAYS,
        )

    def ref(self, work: Work, member: Member) -> UserRef:
        return UserRef(work.workspace, member.external_id)

    def person_of(self, work: Work, member: Member) -> Person:
        return self.s.directory.from_member(work.workspace, member)

    async def dm(self, work: Work, key: str, user: UserRef, message: Message) -> None:
        await work.send(key, Outbound(target=ToUser(user=user), message=message, key=key))

    async def to_managers(self, work: Work, key: str, message: Message) -> int:
        """A DM to each reviewer under `key:to:<member id>`; how many were told."""
        people = await self.managers(work)
        if not people:
            log.error(
                "ambassadors in workspace %s: nobody can review (no community manager and no "
                "admin member); add one with `role add @person community-manager`",
                work.workspace,
            )
        for member in people:
            await self.dm(work, f"{key}:to:{member.id}", self.ref(work, member), message)
        return len(people)

    async def edit_managers(self, work: Work, key: str, message: Message, because: str) -> None:
        """Rewrites the cards sent under `key:to:<member id>` (to whoever got one)."""
        for member in await self.managers(work):
            card = f"{key}:to:{member.id}"
            if await work.was_queued(card):
                await work.edit(card, message, because=because)
