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

from bot import logcontext, metrics
from bot.clock import Clock
from bot.events import Event, HomeOpened, MemberJoined, MessagePosted, ReactionChanged
from bot.outage import DatabaseUnavailable, OutageLog, backoff
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
# The door commits after this many turns of the event loop bring no new arrival (measured:
# 1 turn gathered 4.4 events a commit under a closed-loop burst, 4 turns 15, and more no more).
GATHER_TURNS = 4
GATHER_MAX = 200  # events at most in one commit at the door
RELEASE_WITHIN = 5.0  # seconds a stopping worker spends giving back what it interrupted

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
    return _CODECS[type(event).__name__].dump_json(event, exclude={"raw"}).decode()


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
        self._gathering: list[tuple[inbox_store.Arrival, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # the door committed events: the first worker looks
        self._help = asyncio.Event()  # a backlog: the other workers look too
        # Told after every commit at the door: the workers may be in another process.
        self.notify: Callable[[], None] | None = None
        self.batches = 0  # commits at the door, for benchmarks
        self.outage = OutageLog(log, "inbox workers")

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
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._gathering.append((arrival, done))
        if self._writer is None or self._writer.done():
            # Its own context: it commits for every request, not the one that started it.
            self._writer = asyncio.create_task(
                self._write(), name="inbox-door", context=contextvars.Context()
            )
        with self._db.door_waiting():
            added = await done
        metrics.door_outcome("accepted" if added else "duplicate")

    async def _write(self) -> None:
        # Whatever arrived while the previous batch was being committed goes in the next one.
        while self._gathering:
            await self._gather()
            batch, self._gathering = self._gathering, []
            try:
                async with self._db.connection(urgent=True) as conn:
                    added = await inbox_store.add_many(
                        conn, [a for a, _ in batch], self._clock.now()
                    )
            except Exception as exc:  # e.g. DatabaseUnavailable: every waiter gets it, none hangs
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            except asyncio.CancelledError:  # the door is stopping: its waiters are not left
                waiting, self._gathering = [*batch, *self._gathering], []
                for _, done in waiting:
                    done.cancel()
                raise
            self.batches += 1
            for arrival, done in batch:
                if not done.done():
                    key = (arrival.workspace, arrival.event_id)
                    done.set_result(key in added)
                    added.discard(key)  # a second copy in the same batch is a duplicate
            self._wake.set()
            if self.notify is not None:
                self.notify()

    async def _gather(self) -> None:
        """Lets the requests the event loop has in hand reach the batch first: each commit
        costs about as much as six events in it, so under load the batch grows to what is
        arriving, while at a trickle it costs a turn or two of the loop."""
        quiet = 0
        while quiet < GATHER_TURNS and len(self._gathering) < GATHER_MAX:
            before = len(self._gathering)
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self._gathering) == before else 0

    # ----- the workers ------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self, stop: asyncio.Event | None = None) -> int:
        """Applies every event that can be applied now (until `stop` is set: the batch being
        applied finishes); returns how many were."""
        applied = 0
        while stop is None or not stop.is_set():
            now = self._clock.now()
            async with self._db.transaction() as session:
                claimed = await inbox_store.claim(session, now, limit=BATCH, lease=self.lease)
            if not claimed:
                return applied
            if len(claimed) == BATCH:
                self._help.set()  # there may be more: the other workers claim beside this one
            # Rows claimed together are heads of different partitions: safe to run at once.
            try:
                await asyncio.gather(*(self._apply_one(row) for row in claimed))
            except asyncio.CancelledError:  # a stop's grace ran out: give back what is left
                await self._release(claimed)
                raise
            applied += len(claimed)
        return applied

    async def _release(self, claimed: list[inbox_store.Claimed]) -> None:
        """Rows of an interrupted batch become claimable at once, not after their lease
        (bounded: the worker is on its way out)."""
        try:
            async with asyncio.timeout(RELEASE_WITHIN), self._db.transaction() as session:
                released = await inbox_store.release(session, claimed)
        except Exception:
            log.exception("releasing %d inbox event(s) failed; their leases run out", len(claimed))
            return
        if released:
            log.warning("%d inbox event(s) interrupted by the stop were released", released)

    async def _apply_one(self, row: inbox_store.Claimed) -> None:
        with logcontext.scope(inbox_id=row.id):  # what its log lines are about
            await self._apply_row(row)

    async def _apply_row(self, row: inbox_store.Claimed) -> None:
        await self._db.yield_to_door()  # a platform waits on the door; this event can wait
        state = Applying(row)
        token = applying.set(state)
        try:
            event = decode(row.kind, row.payload)
            logcontext.bind(event_id=event.event_id, workspace=event.workspace)
            await self._apply(event)
        except DatabaseUnavailable:
            # Nothing to write it down with: its lease runs out and it is claimed again then.
            raise
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
            metrics.inbox_event(row.kind, "gave_up" if final else "retry")
            return
        finally:
            applying.reset(token)
        if not state.marked:  # nothing was written (e.g. a reaction nobody acts on)
            async with self._db.transaction() as session:
                await state.mark(session, self._clock.now())
        metrics.inbox_event(row.kind, "applied" if state.marked else "lease_lost")

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
        failures = 0  # in a row, while the database is away
        # A poke wakes the first worker only: each waking worker claims, and at 100 events/s
        # four of them woke for every commit, three to find nothing (a dozen transactions a
        # poke). The others are called in when a claim comes back full: there is a backlog.
        wake = self._wake if number == 0 else self._help
        while not stop.is_set():
            wake.clear()  # before looking: an event accepted meanwhile wakes us again
            due: datetime | None = None
            try:
                await self.run_due(stop)
                now = self._clock.now()
                if number == 0 and (pruned is None or now - pruned > PRUNE_EVERY):
                    await self.prune()
                    await self.check_backlog()
                    pruned = now
                async with self._db.transaction() as session:
                    due = await inbox_store.next_due(session)
                failures = 0
                self.outage.up()
            except DatabaseUnavailable as exc:
                failures += 1
                self.outage.down(exc)
            except Exception:
                log.exception("inbox worker failed; retrying")
            timeout = IDLE_POLL
            if failures:
                timeout = backoff(failures)
            elif due is not None:
                timeout = max(0.0, min(IDLE_POLL, (due - self._clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    waits = [
                        asyncio.ensure_future(wake.wait()),
                        asyncio.ensure_future(stop.wait()),
                    ]
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waits:
                            w.cancel()
