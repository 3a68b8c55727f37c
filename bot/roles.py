"""Roles and permissions, checked once, here, for every privileged action on every platform."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked
from bot.ids import Platform, UserRef, WorkspaceRef
from bot.messages import Message, Reply, rich
from bot.services import Services
from bot.text import mentioned_ids
from bot.work import Work
from store import roles as role_store
from store import workspaces as ws_store
from store.models import Member


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


@dataclass(frozen=True, slots=True)
class Permission:
    """Something only some roles may do; each capability declares its own.

    `allowed` names the weakest role that suffices first, because that is the one a refusal
    tells people to ask for. Admins may always do everything.
    """

    name: str  # unique across capabilities, e.g. "feedback.triage"
    description: str  # how a refusal says it: "triage feedback (...)"
    allowed: tuple[Role, ...]

    def __post_init__(self) -> None:
        if Role.ADMIN not in self.allowed:
            object.__setattr__(self, "allowed", (*self.allowed, Role.ADMIN))


CONFIGURE = Permission("workspace.configure", "change workspace settings", (Role.ADMIN,))
MANAGE_ROLES = Permission("workspace.roles", "change roles", (Role.ADMIN,))

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

    async def of(self, person: Person, session: AsyncSession | None = None) -> set[Role]:
        if session is None:
            async with self.s.db.transaction() as session:
                stored = await role_store.roles_of(session, person.member_id)
        else:
            stored = await role_store.roles_of(session, person.member_id)
        roles = {Role(r) for r in stored}
        if self.configured_admin(person.ref):
            roles.add(Role.ADMIN)
        return roles

    async def can(
        self, person: Person, permission: Permission, session: AsyncSession | None = None
    ) -> bool:
        return bool(await self.of(person, session) & set(permission.allowed))

    async def require(
        self, person: Person, permission: Permission, session: AsyncSession | None = None
    ) -> None:
        """Raises PermissionDenied naming the role to ask for; `session` checks inside a unit
        of work instead of in a transaction of its own."""
        if not await self.can(person, permission, session):
            allowed = permission.allowed
            names = " or ".join(r.label for r in allowed)
            word = allowed[0].value.replace("_", "-")
            raise PermissionDenied(
                f"Only people with the {allowed[0].label} role can {permission.description} "
                f"(roles that can: {names}). An admin can grant it: role add @you {word}"
            )

    async def members_who_can(self, work: Work, permission: Permission) -> list[Member]:
        """Everyone in the work's workspace who holds a role allowed `permission`, admins from
        ALLYBOT_ADMINS included (once they have been seen in this workspace)."""
        found = await role_store.members_with(
            work.session, work.ws_id, [r.value for r in permission.allowed]
        )
        ids = {m.id for m in found}
        for admin in self.configured_admins_in(work.workspace):
            member = await ws_store.get_member(work.session, work.ws_id, admin)
            if member is not None and member.id not in ids:
                found.append(member)
                ids.add(member.id)
        return found

    def configured_admins_in(self, workspace: WorkspaceRef) -> Iterable[str]:
        """The ids of ALLYBOT_ADMINS entries that can name someone in `workspace`: bare ids
        name a person anywhere, "platform:workspace:id" entries only in that workspace."""
        prefix = f"{workspace}:"
        platforms = tuple(f"{p.value}:" for p in Platform)
        for admin in self.s.settings.admins:
            if admin.startswith(prefix):
                yield admin.removeprefix(prefix)
            elif not admin.startswith(platforms):  # a bare id (Teams ids hold colons: "29:1a")
                yield admin

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
        target_ref = UserRef(event.workspace, ids[0])

        async def change(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            await self.require(actor, MANAGE_ROLES, work.session)
            target = await work.person(target_ref, event.profiles.get(ids[0]))
            if target.is_bot:
                raise UserError(f"{target.name} is a bot; roles are for people.")
            session, ws_id = work.session, work.ws_id
            if action == "add":
                changed = await role_store.grant(
                    session,
                    workspace_id=ws_id,
                    member_id=target.member_id,
                    role=role.value,
                    granted_by=actor.member_id,
                    now=work.now,
                )
                return (
                    f"{target.name} is now a {role.label}."
                    if changed
                    else f"{target.name} already was a {role.label}."
                )
            if (
                role is Role.ADMIN
                and not self.s.settings.admins
                and await role_store.count_with(session, ws_id, role.value) == 1
            ):
                raise UserError(f"{target.name} is the last admin; add another admin first.")
            changed = await role_store.revoke(session, target.member_id, role.value)
            return (
                f"{target.name} is no longer a {role.label}."
                if changed
                else f"{target.name} wasn't a {role.label}."
            )

        text = await self.s.run(event, change, people=[target_ref])
        return Reply(message=Message(text=rich(text)))

    async def list(self, event: CommandInvoked) -> Reply:
        async def read(work: Work) -> list[tuple[str, Member]]:
            await work.person(event.actor, event.actor_profile)
            return await role_store.holders(work.session, work.ws_id)

        rows = await self.s.run(event, read)
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
