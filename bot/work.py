"""The unit of work: one transaction that applies one event, with everything it needs.

Capabilities used to write the same steps by hand (look up the workspace, open a transaction,
claim the event under their own key, turn a duplicate into "Already done.", send, wake the
scheduler). `UnitOfWork.run` does them once, here:

- the workspace and the people involved are resolved once per event (from a cache when fresh);
- `Work.claim()` deduplicates the event under one scheme, owned by the kernel;
- messages are queued with `Work.send`, in the same transaction as the effect;
- follow-up events (`Work.emit`, e.g. a kudos counted) are handled by their subscribers inside
  the same transaction, so counters and awards never disagree with what caused them;
- a deadlock or serialization failure (PostgreSQL 40P01/40001) re-runs the whole unit, claim
  included, a bounded number of times;
- the scheduler is woken once, after the commit, when anything was queued;
- reads that rarely change (a workspace's settings, its kudos emoji, its badge rules) are shared
  by the process's units of work through `Work.cached` (see `SharedCache`);
- listeners are isolated from each other's failures (`UnitOfWork.isolated`) without paying a
  savepoint each: they first run without one, and only when one fails does the whole unit run
  again with a savepoint per listener.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendar, metrics
from bot.errors import UserError
from bot.events import Profile
from bot.ids import UserRef, WorkspaceRef
from bot.inbox import applying
from bot.messages import Edit, Message, Outbound
from bot.ports import UserInfo
from store import (
    ConflictError,
    Database,
    DatabaseUnavailable,
    DuplicateError,
    is_conflict,
    is_duplicate,
    is_unavailable,
)
from store import events as event_store
from store import workspaces as ws_store
from store.models import WorkspaceSettings

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.delivery import Delivery
    from bot.directory import Directory, Person
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_TRIES = 5
FollowUp = Callable[["Work", Any], Awaitable[None]]
# How long a shared read may serve units of work before it is read again. A change made through
# this process is seen by the next unit of work after its commit; this bounds how long a change
# made through another replica can go unseen.
CACHE_TTL = 10.0
_MISSING = object()


class SharedCache:
    """Reads shared by the units of work of one process, keyed `(what, workspace id, ...)`.

    A unit that changes what is cached says so (`Work.changed`, `Work.settings_changed`, or a
    store function marking its session: store.workspaces.mark_changed); once it ends, committed
    or not, the entries go, and a read begun before that is not kept (a generation counter), so
    no entry outlives a change by more than the unit that made it. An entry is also read again
    after `ttl` seconds, for changes made by other replicas.
    """

    def __init__(self, ttl: float = CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self.generation = 0

    def get(self, key: Hashable) -> object:
        entry = self._entries.get(key)
        if entry is None:
            return _MISSING
        if entry[0] < self._clock():
            del self._entries[key]
            return _MISSING
        return entry[1]

    def put(self, key: Hashable, value: object, generation: int) -> None:
        """Keeps `value`, read when the generation was `generation`, unless anything was
        invalidated since."""
        if generation == self.generation:
            self._entries[key] = (self._clock() + self.ttl, value)

    def invalidate(self, changes: Iterable[tuple[str | None, int | None]]) -> None:
        """Drops the entries of each (what, workspace id); None matches any."""
        changes = list(changes)
        if not changes:
            return
        self.generation += 1
        for key in list(self._entries):
            what, ws_id = _scope(key)
            if any(c[0] in (None, what) and c[1] in (None, ws_id) for c in changes):
                del self._entries[key]


def _scope(key: Hashable) -> tuple[object, object]:
    if isinstance(key, tuple) and len(key) >= 2:
        return key[0], key[1]
    return key, None


class _Isolate(Exception):
    """A listener failed outside a savepoint: the unit runs again with each one isolated."""


class AlreadyDone(UserError):
    """The event (or the natural key it writes) was applied before: a retry or a double click."""

    def __init__(self, message: str = "Already done.") -> None:
        super().__init__(message)


class Work:
    """What a capability gets while applying one event; valid only inside `UnitOfWork.run`."""

    def __init__(
        self,
        uow: UnitOfWork,
        session: AsyncSession,
        workspace: WorkspaceRef,
        ws_id: int,
        now: datetime,
        event_id: str | None,
        prepared: Mapping[UserRef, UserInfo],
        hints: Mapping[UserRef, Profile],
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.ws_id = ws_id
        self.now = now
        self.event_id = event_id
        self._uow = uow
        self._prepared = prepared
        self._hints = hints
        self._claimed = False
        self._settings: WorkspaceSettings | None = None
        self._settings_read = False
        self._changed: set[tuple[str | None, int | None]] = set()
        self._on_commit: list[Callable[[], None]] = []
        self.resolved: dict[UserRef, tuple[Person, datetime | None]] = {}
        self.follow_ups: list[object] = []
        self.queued = False
        # Whether listeners run in savepoints of their own (after one failed without).
        self.isolate = False
        # Reads a capability makes more than once while applying one event (e.g. which kudos
        # a bot post announced, asked by the reaction's recipients and by its reason).
        self.memo: dict[object, object] = {}
        # Members whose rows this transaction has locked already (a profile upsert locks the
        # row it writes): `lock_members` does not ask for them again.
        self.locked_members: set[int] = set()

    # ----- the event --------------------------------------------------------------------

    async def claim(self, kind: str) -> bool:
        """Records the event as applied; False when it was before (a platform retry).

        Listeners claim only when they act, so an event nobody acts on writes nothing; the
        first claim in a unit of work writes, later ones in the same unit agree with it.
        """
        if self.event_id is None:
            raise RuntimeError("this unit of work was started without an event id")
        if self._claimed:
            return True
        self._claimed = await event_store.claim_event(
            self.session, self.ws_id, self.event_id, kind, self.now
        )
        if not self._claimed:
            metrics.door_outcome("duplicate")  # when a platform's retry is being answered
        return self._claimed

    def emit(self, event: object) -> None:
        """A follow-up event for the capabilities that subscribe to its type (same transaction)."""
        self.follow_ups.append(event)

    # ----- people and settings ----------------------------------------------------------

    async def person(self, user: UserRef, hint: Profile | None = None) -> Person:
        return (await self.people([user], {user: hint} if hint else None))[user]

    async def people(
        self, users: Iterable[UserRef], hints: Mapping[UserRef, Profile] | None = None
    ) -> dict[UserRef, Person]:
        return await self._uow.directory.resolve(self, users, {**self._hints, **(hints or {})})

    async def lock_members(self, member_ids: Iterable[int]) -> None:
        """Locks these members' rows in id order (store.workspaces.lock_members), but for those
        this transaction holds already: a newcomer's kudos wrote both profiles a moment ago, and
        asking again was one statement more per event for nothing."""
        wanted = set(member_ids) - self.locked_members
        if wanted:
            await ws_store.lock_members(self.session, wanted)
            self.locked_members |= wanted

    def prepared(self, user: UserRef) -> UserInfo | None:
        return self._prepared.get(user)

    async def settings(self) -> WorkspaceSettings | None:
        """The workspace's settings row (shared by the process's units of work, read again
        after a change). Read-only: change settings through store.workspaces."""
        if not self._settings_read:
            self._settings = await self.cached(("settings", self.ws_id), self._read_settings)
            self._settings_read = True
        return self._settings

    async def _read_settings(self) -> WorkspaceSettings | None:
        return ws_store.detached_settings(await ws_store.get_settings(self.session, self.ws_id))

    def settings_changed(self) -> None:
        """After writing settings: the next `settings()` reads them again, and every shared read
        of this workspace is dropped once this unit of work ends."""
        self._settings_read = False
        self.changed(None)

    # ----- reads shared between units of work ---------------------------------------------

    async def cached(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
        """`load()`, shared with the process's other units of work until it changes.

        `key` starts with what is read and the workspace id it belongs to, e.g.
        `("kudos_reactions", ws_id)`; whoever changes it calls `changed(what)` (or its store
        function marks the session). The value must be immutable, or never mutated by readers.
        Once this unit changed it, it reads its own (uncommitted) version and shares nothing.
        """
        if key in self.memo:
            return cast(T, self.memo[key])
        cache = self._uow.cache
        if not self._touches(key):
            hit = cache.get(key)
            if hit is not _MISSING:
                self.memo[key] = hit
                return cast(T, hit)
        generation = cache.generation
        value = await load()
        self.memo[key] = value
        if not self._touches(key):
            cache.put(key, value, generation)
        return value

    def changed(self, what: str | None, ws_id: int | None = -1) -> None:
        """This unit of work changes `what` (None: everything) of a workspace (by default its
        own; None: every workspace): its shared reads go when the unit ends."""
        scope = (what, self.ws_id if ws_id == -1 else ws_id)
        self._changed.add(scope)
        for key in [k for k in self.memo if isinstance(k, tuple) and _covers(scope, k)]:
            del self.memo[key]

    def changes(self) -> set[tuple[str | None, int | None]]:
        """What this unit of work changed: said with `changed`, or marked by the store."""
        return self._changed | ws_store.changes(self.session)

    def _touches(self, key: tuple[Any, ...]) -> bool:
        return any(_covers(scope, key) for scope in self.changes())

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Runs `callback` once this unit of work has committed (not when it rolls back, nor
        when the listener that registered it fails): for facts that are true only once
        committed, e.g. remembering that a row exists."""
        self._on_commit.append(callback)

    async def timezone(self) -> ZoneInfo:
        """The workspace's zone (leaderboard periods, digests), or the configured default."""
        settings = await self.settings()
        return calendar.zone(settings.timezone if settings else None, self._uow.default_tz)

    # ----- what it sends and schedules --------------------------------------------------

    async def send(self, key: str, item: Outbound | Edit) -> None:
        """Queues a message under `key`; a second send under the same key is a no-op."""
        await self._uow.delivery.send(self.session, self.workspace, self.ws_id, key, item)
        self.queued = True

    async def edit(self, key: str, message: Message, *, because: str) -> None:
        """Rewrites the message sent under `key`, once per `because` (what caused the edit)."""
        await self.send(f"{key}:edit:{because}", Edit(key=key, message=message))

    async def was_queued(self, key: str) -> bool:
        """Whether a message was ever queued under `key` (sent or still waiting)."""
        return await self._uow.delivery.was_queued(self.session, self.ws_id, key)

    async def enqueue(
        self,
        kind: str,
        key: str,
        payload: str,
        due_at: datetime | None = None,
        *,
        platform: str | None = None,
    ) -> bool:
        """A job for later; `platform`: only a replica running that platform's port takes it."""
        added = await self._uow.scheduler.enqueue(
            self.session,
            workspace_id=self.ws_id,
            kind=kind,
            key=key,
            payload=payload,
            due_at=due_at,
            platform=platform,
        )
        self.queued = self.queued or added
        return added


class UnitOfWork:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        directory: Directory,
        delivery: Delivery,
        scheduler: Scheduler,
        default_tz: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.directory = directory
        self.delivery = delivery
        self.scheduler = scheduler
        self.default_tz = default_tz
        self._follow_ups: dict[type, list[FollowUp]] = {}
        self.transactions = 0  # counted for tests and benchmarks
        self.cache = SharedCache()

    def subscribe(self, event_type: type, handler: FollowUp) -> None:
        self._follow_ups.setdefault(event_type, []).append(handler)

    async def run(
        self,
        workspace: WorkspaceRef,
        fn: Callable[[Work], Awaitable[T]],
        *,
        event_id: str | None = None,
        people: Iterable[UserRef] = (),
        hints: Mapping[UserRef, Profile] | None = None,
    ) -> T:
        """Runs `fn` in one transaction and commits; see the module docstring.

        `people` are resolved before the transaction: a profile never seen or gone stale is
        looked up from the platform outside it, so a slow platform never holds a write lock.
        A duplicate key surfaces as AlreadyDone.
        """
        hints = dict(hints or {})
        ws_id = await self.directory.workspace_id(workspace)
        prepared = await self.directory.prepare(list(people), hints)
        inbox_row = applying.get()
        work: Work | None = None
        isolate = False
        try:
            # One more than MAX_TRIES conflicts: a run again with listeners isolated is no conflict.
            for attempt in range(1, MAX_TRIES + 2):
                committed = False
                try:
                    self.transactions += 1
                    async with self.db.transaction() as session:
                        work = Work(
                            self,
                            session,
                            workspace,
                            ws_id,
                            self.clock.now(),
                            event_id,
                            prepared,
                            hints,
                        )
                        work.isolate = isolate
                        if prepared or hints:
                            # Profile writes first, in one order (rows lock in it).
                            await work.people([*prepared, *hints])
                        result = await fn(work)
                        await self._handle_follow_ups(work)
                        if inbox_row is not None:  # "applied" commits with the effect
                            await inbox_row.mark(session, work.now)
                    committed = True
                    self.directory.remember(work.resolved)
                    return result
                except _Isolate as exc:
                    if inbox_row is not None:
                        inbox_row.marked = False  # rolled back with the rest
                    log.info("%s; running the unit again, each listener in a savepoint", exc)
                    metrics.transaction_retry("unit_of_work", "listener_failed")
                    isolate = True
                except ConflictError:
                    if inbox_row is not None:
                        inbox_row.marked = False  # rolled back with the rest
                    if attempt >= MAX_TRIES:
                        raise
                    log.info("transaction conflict (attempt %d); running it again", attempt)
                    metrics.transaction_retry("unit_of_work", "conflict")
                    await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
                except DuplicateError:
                    metrics.door_outcome("duplicate")
                    raise AlreadyDone() from None
                finally:
                    if work is not None:
                        self._settle(work, committed)
            raise AssertionError("unreachable")
        finally:
            if work is not None and work.queued:
                self.scheduler.wake()

    def _settle(self, work: Work, committed: bool) -> None:
        """After one attempt: drops the shared reads it changed (committed or not), then runs
        its on-commit callbacks if it committed."""
        self.cache.invalidate(work.changes())
        callbacks, work._on_commit = work._on_commit, []
        if committed:
            for callback in callbacks:
                callback()

    async def _handle_follow_ups(self, work: Work) -> None:
        while work.follow_ups:
            event = work.follow_ups.pop(0)
            for handler in self._follow_ups.get(type(event), ()):
                await handler(work, event)

    async def isolated(self, work: Work, name: str, fn: Callable[[], Awaitable[None]]) -> None:
        """Runs one listener so that its failure is logged and undone, and the others still see
        the event. A conflict still re-runs the whole unit.

        A savepoint per listener cost about as much as the listener itself, for failures that
        are rare: so the first run has none, and a failure there re-runs the whole unit (like a
        conflict) with each listener in a savepoint of its own.
        """
        if not work.isolate:
            try:
                await fn()
            except Exception as exc:
                if is_conflict(exc) or isinstance(exc, ConflictError):
                    raise ConflictError(str(exc)) from exc
                if is_unavailable(exc):  # the connection is gone: no listener can go on
                    raise DatabaseUnavailable.from_error(exc) from exc
                raise _Isolate(f"{name} failed on event {work.event_id}") from exc
            return
        claimed, callbacks, locked = work._claimed, len(work._on_commit), set(work.locked_members)
        try:
            async with work.session.begin_nested():
                await fn()
        except Exception as exc:
            work._claimed = claimed  # a claim made inside the savepoint was undone with it
            work.locked_members = locked  # and its row locks were released
            work.memo.clear()
            del work._on_commit[callbacks:]  # what they would remember was undone too
            if is_conflict(exc):
                raise ConflictError(str(exc)) from exc
            if is_unavailable(exc):
                raise DatabaseUnavailable.from_error(exc) from exc
            if is_duplicate(exc):
                log.info("%s: event %s was applied before", name, work.event_id)
                return
            log.exception(
                "%s failed on event %s; the other listeners still ran", name, work.event_id
            )


def _covers(scope: tuple[str | None, int | None], key: tuple[Any, ...]) -> bool:
    what, ws_id = _scope(key)
    return scope[0] in (None, what) and scope[1] in (None, ws_id)
