"""People: maps platform users to members, with profiles cached from the platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import Clock
from bot.events import Profile
from bot.ids import UserRef, WorkspaceRef
from bot.ports import ChatPort, UserInfo
from store import Database
from store import workspaces as ws_store
from store.models import Member

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Person:
    member_id: int
    ref: UserRef
    name: str
    tz: ZoneInfo
    is_bot: bool


@dataclass(frozen=True, slots=True)
class Route:
    conversation_id: str
    service_url: str | None = None
    bot_id: str | None = None


class Directory:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ports: Mapping[str, ChatPort],
        default_tz: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ports = ports
        self._default_tz = ZoneInfo(default_tz)
        self._workspace_ids: dict[WorkspaceRef, int] = {}

    async def workspace_id(self, workspace: WorkspaceRef) -> int:
        cached = self._workspace_ids.get(workspace)
        if cached is None:
            async with self._db.transaction() as session:
                row = await ws_store.ensure_workspace(
                    session, workspace.platform.value, workspace.id, self._clock.now()
                )
                cached = self._workspace_ids[workspace] = row.id
        return cached

    async def person(self, user: UserRef, hint: Profile | None = None) -> Person:
        return (await self.people([user], {user: hint} if hint else {}))[user]

    async def people(
        self, users: Iterable[UserRef], hints: Mapping[UserRef, Profile] | None = None
    ) -> dict[UserRef, Person]:
        """Resolves people, refreshing stale profiles from the platform outside any transaction
        (a slow platform must not hold the database's write lock)."""
        hints = hints or {}
        wanted = list(dict.fromkeys(users))
        now = self._clock.now()
        members: dict[UserRef, Member] = {}
        ws_ids = {w: await self.workspace_id(w) for w in {u.workspace for u in wanted}}
        async with self._db.transaction() as session:
            for user in wanted:
                ws_id = ws_ids[user.workspace]
                member = await ws_store.ensure_member(session, ws_id, user.id, now)
                hint = hints.get(user)
                if hint:
                    await ws_store.update_profile(
                        session,
                        member,
                        display_name=hint.display_name,
                        tz=hint.tz,
                        is_bot=hint.is_bot,
                        refreshed_at=None,
                    )
                members[user] = member

        stale = [
            user
            for user, member in members.items()
            if member.profile_refreshed_at is None
            or now - member.profile_refreshed_at > PROFILE_TTL
        ]
        if stale:
            infos = await asyncio.gather(*(self._lookup(user) for user in stale))
            async with self._db.transaction() as session:
                for user, info in zip(stale, infos, strict=True):
                    if info is None:
                        continue
                    member = await session.merge(members[user])
                    await ws_store.update_profile(
                        session,
                        member,
                        display_name=info.display_name,
                        tz=info.tz,
                        is_bot=info.is_bot,
                        refreshed_at=now,
                    )
                    members[user] = member
        return {user: self._person(user, member) for user, member in members.items()}

    def hints(
        self, event_profiles: Mapping[str, Profile], users: Iterable[UserRef]
    ) -> dict[UserRef, Profile]:
        return {u: event_profiles[u.id] for u in users if u.id in event_profiles}

    async def remember_route(self, user: UserRef, route: Route) -> None:
        """Stores how to reach `user` privately later (a Teams conversation reference)."""
        ws_id = await self.workspace_id(user.workspace)
        async with self._db.transaction() as session:
            member = await ws_store.ensure_member(session, ws_id, user.id, self._clock.now())
            await ws_store.save_direct_route(
                session,
                member.id,
                conversation_id=route.conversation_id,
                service_url=route.service_url,
                bot_id=route.bot_id,
                now=self._clock.now(),
            )

    async def route(self, user: UserRef) -> Route | None:
        ws_id = await self.workspace_id(user.workspace)
        async with self._db.transaction() as session:
            member = await ws_store.get_member(session, ws_id, user.id)
            row = None if member is None else await ws_store.get_direct_route(session, member.id)
        if row is None:
            return None
        return Route(row.conversation_id, row.service_url, row.bot_id)

    async def latest_route(self, workspace: WorkspaceRef) -> Route | None:
        """Any recent route in the workspace: gives Teams' service URL for proactive sends."""
        ws_id = await self.workspace_id(workspace)
        async with self._db.transaction() as session:
            row = await ws_store.latest_direct_route(session, ws_id)
        if row is None:
            return None
        return Route(row.conversation_id, row.service_url, row.bot_id)

    async def _lookup(self, user: UserRef) -> UserInfo | None:
        port = self._ports.get(user.workspace.platform)
        if port is None:
            return None
        try:
            return await port.user_info(user)
        except Exception:  # a profile is a nicety: fall back to what we know
            log.warning("profile look-up failed for %s", user, exc_info=True)
            return None

    def from_member(self, workspace: WorkspaceRef, member: Member) -> Person:
        """A Person from a stored member, without any look-up."""
        return self._person(UserRef(workspace, member.external_id), member)

    def _person(self, user: UserRef, member: Member) -> Person:
        return Person(
            member_id=member.id,
            ref=user,
            name=member.display_name or user.id,
            tz=self._zone(member.tz),
            is_bot=member.is_bot,
        )

    def _zone(self, name: str | None) -> ZoneInfo:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("unknown time zone %r; using the default", name)
        return self._default_tz
