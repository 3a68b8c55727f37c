"""People: maps platform users to members, with profiles cached from the platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import Clock
from bot.events import Profile
from bot.ids import UserRef, WorkspaceRef
from bot.ports import ChatPort, UserInfo
from store import Database
from store import workspaces as ws_store
from store.models import Member

if TYPE_CHECKING:
    from bot.work import Work

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Person:
    member_id: int
    ref: UserRef
    name: str
    tz: ZoneInfo
    is_bot: bool


def _profile_write(
    user: UserRef, hint: Profile | None, info: UserInfo | None, now: datetime
) -> ws_store.ProfileWrite | None:
    """What to write of a person: what the platform said (`info`, fresh now) over what the
    event said (`hint`); None when neither says anything."""
    if hint is None and info is None:
        return None
    is_bot = info.is_bot if info is not None and info.is_bot is not None else None
    if is_bot is None and hint is not None:
        is_bot = hint.is_bot
    return ws_store.ProfileWrite(
        external_id=user.id,
        display_name=(info.display_name if info else None) or (hint.display_name if hint else None),
        tz=(info.tz if info else None) or (hint.tz if hint else None),
        is_bot=is_bot,
        refreshed_at=now if info else None,
    )


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
        # People seen lately, with when their profile was last refreshed from the platform:
        # a unit of work that finds someone here runs no query to know them.
        self._known: dict[UserRef, tuple[Person, datetime | None]] = {}

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
        people = {user: self._person(user, member) for user, member in members.items()}
        self.remember({u: (p, members[u].profile_refreshed_at) for u, p in people.items()})
        return people

    # ----- inside a unit of work -----------------------------------------------------------

    def _fresh(self, refreshed_at: datetime | None) -> bool:
        return refreshed_at is not None and self._clock.now() - refreshed_at <= PROFILE_TTL

    async def prepare(
        self, users: list[UserRef], hints: Mapping[UserRef, Profile]
    ) -> dict[UserRef, UserInfo]:
        """Before a unit of work: looks up, outside any transaction, the profiles of the people
        it will need that were never seen or went stale. Known people cost nothing."""
        wanted = [u for u in dict.fromkeys(users) if not self._fresh(self._refreshed(u))]
        if not wanted:
            return {}
        by_ws: dict[WorkspaceRef, list[UserRef]] = {}
        for user in wanted:
            by_ws.setdefault(user.workspace, []).append(user)
        stale: list[UserRef] = []
        # Only read here: a member new to the store is added, with what the platform says, by
        # the unit of work's first profile write (one statement, in the unit's one order).
        for workspace, users_in in sorted(by_ws.items(), key=lambda item: str(item[0])):
            ws_id = await self.workspace_id(workspace)
            async with self._db.read() as session:
                rows = await ws_store.find_members(session, ws_id, [u.id for u in users_in])
            for user in users_in:
                row = rows.get(user.id)
                if row is not None and self._fresh(row.profile_refreshed_at):
                    self._known[user] = (self._person_of(user, row), row.profile_refreshed_at)
                else:
                    stale.append(user)
        infos = await asyncio.gather(*(self._lookup(user) for user in stale))
        return {u: info for u, info in zip(stale, infos, strict=True) if info is not None}

    def _refreshed(self, user: UserRef) -> datetime | None:
        known = self._known.get(user)
        return known[1] if known else None

    async def resolve(
        self, work: Work, users: Iterable[UserRef], hints: Mapping[UserRef, Profile]
    ) -> dict[UserRef, Person]:
        """People as members of the work's workspace, inside its transaction; profiles that
        `prepare` looked up, or that the event carried, are written in the same transaction."""
        out: dict[UserRef, Person] = {}
        to_write: list[tuple[UserRef, Profile | None, UserInfo | None]] = []
        for user in sorted(dict.fromkeys(users), key=str):  # one order: rows lock in it
            hint = hints.get(user)
            here = work.resolved.get(user)
            if here is not None and _agrees(here[0], hint):
                # Written (or read) in this unit already, with what `prepare` looked up.
                out[user] = here[0]
                continue
            done, info = self._known.get(user), work.prepared(user)
            if done is not None and info is None and _agrees(done[0], hint):
                out[user] = done[0]
                continue
            if user.workspace != work.workspace:
                raise ValueError(f"{user} is not in the unit of work's workspace")
            to_write.append((user, hint, info))
        writes = [_profile_write(user, hint, info, work.now) for user, hint, info in to_write]
        batch = [w for w in writes if w is not None and w.is_bot is not None]
        if len(batch) > 1 and len(batch) == len(writes):
            # The giver and the recipient of a kudos both new, say: one statement for both.
            # (Else one at a time, in the same order: rows lock in one order either way.)
            rows = await ws_store.upsert_profiles(work.session, work.ws_id, batch, work.now)
            work.locked_members.update(row.id for row in rows.values())  # an upsert locks
            for user, _, _ in to_write:
                row = rows[user.id]
                work.resolved[user] = (self._person_of(user, row), row.profile_refreshed_at)
                out[user] = work.resolved[user][0]
            return out
        for user, hint, info in to_write:  # in the same order
            person, refreshed = await self._write(work, work.ws_id, user, hint, info)
            work.resolved[user] = (person, refreshed)
            out[user] = person
        return out

    async def _write(
        self, work: Work, ws_id: int, user: UserRef, hint: Profile | None, info: UserInfo | None
    ) -> tuple[Person, datetime | None]:
        """The member, with what the platform or the event said over what was stored: one
        statement for someone already a member."""
        write = _profile_write(user, hint, info, work.now)
        if write is None:  # nothing to write: only read (or add) them
            rows = await ws_store.find_or_add_members(work.session, ws_id, [user.id], work.now)
            found = rows[user.id]
            return self._person_of(user, found), found.profile_refreshed_at
        row = await ws_store.upsert_profile(
            work.session,
            ws_id,
            user.id,
            display_name=write.display_name,
            tz=write.tz,
            is_bot=write.is_bot,
            refreshed_at=write.refreshed_at,
            now=work.now,
        )
        work.locked_members.add(row.id)  # an upsert locks the row it wrote
        return self._person_of(user, row), row.profile_refreshed_at

    def remember(self, resolved: Mapping[UserRef, tuple[Person, datetime | None]]) -> None:
        """After a commit: the people a unit of work resolved are known from now on."""
        self._known.update(resolved)

    def hints(
        self, event_profiles: Mapping[str, Profile], users: Iterable[UserRef]
    ) -> dict[UserRef, Profile]:
        return {u: event_profiles[u.id] for u in users if u.id in event_profiles}

    # ----- private routes: opaque values a port asks the core to keep (see AddressBook) ----

    async def remember_route(self, user: UserRef, address: str) -> None:
        """Stores how to reach `user` privately later; only their platform's port reads it."""
        ws_id = await self.workspace_id(user.workspace)
        async with self._db.transaction() as session:
            member = await ws_store.ensure_member(session, ws_id, user.id, self._clock.now())
            await ws_store.save_direct_route(
                session, member.id, address=address, now=self._clock.now()
            )

    async def route(self, user: UserRef) -> str | None:
        ws_id = await self.workspace_id(user.workspace)
        async with self._db.transaction() as session:
            member = await ws_store.get_member(session, ws_id, user.id)
            row = None if member is None else await ws_store.get_direct_route(session, member.id)
        return None if row is None else row.address

    async def latest_route(self, workspace: WorkspaceRef) -> str | None:
        """The workspace's most recently stored route (Teams reads its tenant's service URL)."""
        ws_id = await self.workspace_id(workspace)
        async with self._db.transaction() as session:
            row = await ws_store.latest_direct_route(session, ws_id)
        return None if row is None else row.address

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

    def _person_of(self, user: UserRef, row: ws_store.MemberRow) -> Person:
        return Person(
            member_id=row.id,
            ref=user,
            name=row.display_name or user.id,
            tz=self._zone(row.tz),
            is_bot=row.is_bot,
        )

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


def _agrees(person: Person, hint: Profile | None) -> bool:
    """Whether what the event says of a person is already what we know."""
    if hint is None:
        return True
    return (
        (not hint.display_name or hint.display_name == person.name)
        and (hint.is_bot is None or hint.is_bot == person.is_bot)
        and (not hint.tz or hint.tz == person.tz.key)
    )
