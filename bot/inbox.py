"""The durable inbox: events that need no synchronous answer are committed, acknowledged, and
applied afterwards, each exactly once.

The rule used to be "acknowledge only after the effect is committed", which put every kudos'
work before the ack. Durability needs only the *event* committed before the ack:

- `accept` writes the event to the inbox table. Concurrent requests share one transaction and
  one fsync (group commit: while one batch is being written, the next one gathers), and return
  once their batch is committed. A redelivery (same workspace and event id) is a no-op there.
- Workers claim rows with a lease each and apply them through the core (one unit of work);
  marking a row applied commits in the same transaction as its effect. The unit of work's event
  claim makes a repeat (a worker that died after its commit) a no-op too.
- Order is kept where it matters: the events of one partition (a reaction and its removal on
  the same message; one person's home and joins) apply one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from bot.clock import Clock
from bot.events import Event, HomeOpened, MemberJoined, MessagePosted, ReactionChanged
from store import Database
from store import inbox as inbox_store

log = logging.getLogger(__name__)

# The events the door takes into the inbox (no synchronous answer is expected of them).
KINDS: dict[str, type[Event]] = {
    cls.__name__: cls for cls in (ReactionChanged, HomeOpened, MemberJoined, MessagePosted)
}
_CODECS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(cls) for name, cls in KINDS.items()}

LEASE = timedelta(seconds=30)  # an event applies in milliseconds; a dead worker's wait
MAX_ATTEMPTS = 5
KEEP_APPLIED = timedelta(days=1)  # Slack retries for about an hour; Teams not at all
IDLE_POLL = 5.0
PRUNE_EVERY = timedelta(minutes=1)  # and look for a backlog
BACKLOG_EVENTS = 1000
BACKLOG_AGE = timedelta(minutes=5)
BATCH = 20

# The inbox row a unit of work is applying, if any: the unit marks it applied in its own
# transaction (bot/work.py), so the effect and "applied" commit together.
applying: contextvars.ContextVar[Applying | None] = contextvars.ContextVar(
    "allybot_inbox_row", default=None
)


@dataclasses.dataclass
class Applying:
    row: inbox_store.Claimed
    marked: bool = False

    async def mark(self, session: Any, now: datetime) -> None:
        if not self.marked:
            self.marked = await inbox_store.mark_done(session, self.row, now)
            if not self.marked:
                log.warning("inbox event %s: lease lost; another worker applies it", self.row.id)


def partition_of(event: Event) -> str:
    match event:
        case ReactionChanged():
            return f"{event.workspace}:{event.message.key}"
        case MessagePosted():
            return f"{event.workspace}:{event.message.conversation.id}"
        case _:
            return f"{event.actor}"


def encode(event: Event) -> str:
    # The raw platform payload is the adapter's business, and can be large: not kept.
    return _CODECS[type(event).__name__].dump_json(dataclasses.replace(event, raw={})).decode()


def decode(kind: str, payload: str) -> Event:
    event = _CODECS[kind].validate_json(payload)
    assert isinstance(event, Event)
    return event


class Inbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        apply: Callable[[Event], Awaitable[object]],
        *,
        workers: int = 4,
        on_backlog: Callable[[str, int, timedelta], Awaitable[None]] | None = None,
    ) -> None:
        self._db = db
        self.lease = LEASE
        # Told (workspace, waiting, oldest age) when a workspace's events wait too long.
        self.on_backlog = on_backlog
        self._clock = clock
        self._apply = apply
        self._workers = workers
        self._gathering: list[tuple[inbox_store.Arrival, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Told after every commit at the door: the workers may be in another process.
        self.notify: Callable[[], None] | None = None
        self.batches = 0  # commits at the door, for benchmarks

    # ----- the door ---------------------------------------------------------------------

    async def accept(self, event: Event) -> None:
        """Returns once the event is committed (then the platform may be acknowledged)."""
        arrival = inbox_store.Arrival(
            workspace=str(event.workspace),
            event_id=event.event_id,
            kind=type(event).__name__,
            partition=partition_of(event),
            payload=encode(event),
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._gathering.append((arrival, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox-door")
        await done

    async def _write(self) -> None:
        # Whatever arrived while the previous batch was being committed goes in the next one.
        while self._gathering:
            batch, self._gathering = self._gathering, []
            try:
                async with self._db.transaction(urgent=True) as session:
                    await inbox_store.add_many(session, [a for a, _ in batch], self._clock.now())
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self.batches += 1
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            self._wake.set()
            if self.notify is not None:
                self.notify()

    # ----- the workers ------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Applies every event that can be applied now; returns how many were."""
        applied = 0
        while True:
            now = self._clock.now()
            async with self._db.transaction() as session:
                claimed = await inbox_store.claim(session, now, limit=BATCH, lease=self.lease)
            if not claimed:
                return applied
            # Rows claimed together are heads of different partitions: safe to run at once.
            await asyncio.gather(*(self._apply_one(row) for row in claimed))
            applied += len(claimed)

    async def _apply_one(self, row: inbox_store.Claimed) -> None:
        state = Applying(row)
        token = applying.set(state)
        try:
            await self._apply(decode(row.kind, row.payload))
        except Exception as exc:
            log.exception("inbox event %s (%s) failed (attempt %d)", row.id, row.kind, row.attempts)
            final = row.attempts >= MAX_ATTEMPTS
            if final:
                log.error(
                    "inbox event %s (%s) gave up after %d attempts", row.id, row.kind, row.attempts
                )
            now = self._clock.now()
            async with self._db.transaction() as session:
                await inbox_store.retry(
                    session,
                    row,
                    now + timedelta(seconds=min(2**row.attempts, 300)),
                    f"{type(exc).__name__}: {exc}",
                    final=final,
                )
            return
        finally:
            applying.reset(token)
        if not state.marked:  # nothing was written (e.g. a reaction nobody acts on)
            async with self._db.transaction() as session:
                await state.mark(session, self._clock.now())

    async def check_backlog(self) -> None:
        """Tells `on_backlog` about every workspace whose events wait past the limits."""
        async with self._db.transaction() as session:
            waiting = await inbox_store.waiting_by_workspace(session)
        now = self._clock.now()
        for workspace, (count, oldest) in waiting.items():
            age = now - oldest
            if count >= BACKLOG_EVENTS or age >= BACKLOG_AGE:
                log.error(
                    "inbox backlog for %s: %d events waiting, the oldest for %s",
                    workspace,
                    count,
                    age,
                )
                if self.on_backlog is not None:
                    await self.on_backlog(workspace, count, age)

    async def depth(self) -> inbox_store.Depth:
        async with self._db.transaction() as session:
            return await inbox_store.depth(session)

    async def prune(self) -> int:
        async with self._db.transaction() as session:
            return await inbox_store.prune(session, self._clock.now() - KEEP_APPLIED)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """`workers` loops applying events until `stop` is set."""
        await asyncio.gather(*(self._loop(stop, i) for i in range(self._workers)))

    async def _loop(self, stop: asyncio.Event, number: int) -> None:
        pruned: datetime | None = None
        while not stop.is_set():
            self._wake.clear()  # before looking: an event accepted meanwhile wakes us again
            due: datetime | None = None
            try:
                await self.run_due()
                now = self._clock.now()
                if number == 0 and (pruned is None or now - pruned > PRUNE_EVERY):
                    await self.prune()
                    await self.check_backlog()
                    pruned = now
                async with self._db.transaction() as session:
                    due = await inbox_store.next_due(session)
            except Exception:
                log.exception("inbox worker failed; retrying")
            timeout = IDLE_POLL
            if due is not None:
                timeout = max(0.0, min(IDLE_POLL, (due - self._clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    waits = [
                        asyncio.ensure_future(self._wake.wait()),
                        asyncio.ensure_future(stop.wait()),
                    ]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
