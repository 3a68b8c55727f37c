"""Roles and permissions, checked once, here, for every privileged action on every platform."""

from __future__ import annotations

from enum import StrEnum

from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked
from bot.ids import UserRef
from bot.messages import Message, Reply, rich
from bot.services import Services
from bot.text import mentioned_ids
from store import roles as role_store


class Role(StrEnum):
    ADMIN = "admin"
    COMMUNITY_MANAGER = "community_manager"
    CURATOR = "curator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


ROLE_WORDS = {
    "admin": Role.ADMIN,
    "community-manager": Role.COMMUNITY_MANAGER,
    "community_manager": Role.COMMUNITY_MANAGER,
    "cm": Role.COMMUNITY_MANAGER,
    "curator": Role.CURATOR,
}


class Permission(StrEnum):
    CONFIGURE = "change workspace settings"
    MANAGE_ROLES = "change roles"
    MANAGE_BADGES = "create, edit or retire badges"
    AWARD_BADGES = "award or revoke badges"
    SEE_REWARDS = "see people's reward preferences"
    SET_TEAMS = "set people's teams"
    TRIAGE_FEEDBACK = "triage feedback (status, owner, category, notes, export)"


# Which roles may do what. Admins may do everything; the weakest role that suffices is named
# first, because that is the one a refusal tells people to ask for.
ALLOWED: dict[Permission, tuple[Role, ...]] = {
    Permission.CONFIGURE: (Role.ADMIN,),
    Permission.MANAGE_ROLES: (Role.ADMIN,),
    Permission.MANAGE_BADGES: (Role.CURATOR, Role.COMMUNITY_MANAGER, Role.ADMIN),
    Permission.AWARD_BADGES: (Role.CURATOR, Role.COMMUNITY_MANAGER, Role.ADMIN),
    Permission.SEE_REWARDS: (Role.COMMUNITY_MANAGER, Role.ADMIN),
    Permission.SET_TEAMS: (Role.COMMUNITY_MANAGER, Role.ADMIN),
    Permission.TRIAGE_FEEDBACK: (Role.CURATOR, Role.COMMUNITY_MANAGER, Role.ADMIN),
}

USAGE = "add|remove @person admin|community-manager|curator"
EXAMPLES = ("role add @bo curator", "roles")


class PermissionDenied(UserError):
    pass


class Roles:
    def __init__(self, services: Services) -> None:
        self.s = services

    def configured_admin(self, user: UserRef) -> bool:
        """Admins named in ALLYBOT_ADMINS (bare ids or platform:workspace:id)."""
        admins = self.s.settings.admins
        return user.id in admins or str(user) in admins

    async def of(self, person: Person) -> set[Role]:
        async with self.s.db.transaction() as session:
            stored = await role_store.roles_of(session, person.member_id)
        roles = {Role(r) for r in stored}
        if self.configured_admin(person.ref):
            roles.add(Role.ADMIN)
        return roles

    async def can(self, person: Person, permission: Permission) -> bool:
        return bool(await self.of(person) & set(ALLOWED[permission]))

    async def require(self, person: Person, permission: Permission) -> None:
        if not await self.can(person, permission):
            allowed = ALLOWED[permission]
            names = " or ".join(r.label for r in allowed)
            word = allowed[0].value.replace("_", "-")
            raise PermissionDenied(
                f"Only people with the {allowed[0].label} role can {permission.value} "
                f"(roles that can: {names}). An admin can grant it: role add @you {word}"
            )

    # ----- commands -------------------------------------------------------------------

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        action, _, rest = args.strip().partition(" ")
        action = action.lower()
        if action in ("", "list"):
            return await self.list(event)
        if action not in ("add", "remove"):
            raise UsageError(f"Usage: role {USAGE}\nExample: {EXAMPLES[0]}")
        ids = mentioned_ids(rest)
        words = [w.lower() for w in rest.split() if not w.startswith("<@")]
        if len(ids) != 1 or len(words) != 1 or words[0] not in ROLE_WORDS:
            raise UsageError(
                "Name one person and one role (admin, community-manager or curator).\n"
                f"Usage: role {USAGE}\nExample: {EXAMPLES[0]}"
            )
        role = ROLE_WORDS[words[0]]
        actor = await self.s.directory.person(event.actor, event.actor_profile)
        await self.require(actor, Permission.MANAGE_ROLES)
        target_ref = UserRef(event.workspace, ids[0])
        target = await self.s.directory.person(target_ref, event.profiles.get(ids[0]))
        if target.is_bot:
            raise UserError(f"{target.name} is a bot; roles are for people.")
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            if action == "add":
                changed = await role_store.grant(
                    session,
                    workspace_id=ws_id,
                    member_id=target.member_id,
                    role=role.value,
                    granted_by=actor.member_id,
                    now=self.s.clock.now(),
                )
                text = (
                    f"{target.name} is now a {role.label}."
                    if changed
                    else f"{target.name} already was a {role.label}."
                )
            else:
                if (
                    role is Role.ADMIN
                    and not self.s.settings.admins
                    and await role_store.count_with(session, ws_id, role.value) == 1
                ):
                    raise UserError(f"{target.name} is the last admin; add another admin first.")
                changed = await role_store.revoke(session, target.member_id, role.value)
                text = (
                    f"{target.name} is no longer a {role.label}."
                    if changed
                    else f"{target.name} wasn't a {role.label}."
                )
        return Reply(message=Message(text=rich(text)))

    async def list(self, event: CommandInvoked) -> Reply:
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            rows = await role_store.holders(session, ws_id)
        by_role: dict[Role, list[str]] = {r: [] for r in Role}
        for role, member in rows:
            by_role[Role(role)].append(member.display_name or member.external_id)
        configured = list(self.s.settings.admins)
        lines = []
        for role in Role:
            names = by_role[role]
            if role is Role.ADMIN and configured:
                names = [*names, *(f"{a} (from ALLYBOT_ADMINS)" for a in configured)]
            lines.append(
                f"{role.label.capitalize()}s: {', '.join(names) if names else 'nobody yet'}"
            )
        return Reply(message=Message(text=rich("\n".join(lines))))
