"""Engine and unit-of-work handling for SQLite and PostgreSQL (asyncpg).

SQLite statements take microseconds, while handing each one to aiosqlite's thread and back
(a cursor, the statement, its rows and the close: four hops) cost more CPU than the statement
itself. So by default they run on the event loop's own thread (`_InlineSqlite`), and the one
wait that can be long, another process's write lock, is an asynchronous poll instead of
SQLite's busy handler, so the loop never blocks on it. `threaded=True` keeps aiosqlite.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import mmap
import os
import sqlite3
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.errors import DatabaseUnavailable, is_unavailable

log = logging.getLogger(__name__)


class DuplicateError(Exception):
    """A unique key already exists: the same event or natural key was recorded before."""


class ConflictError(Exception):
    """The database rolled the transaction back to break a deadlock or a serialization
    conflict; running the whole transaction again is safe and expected to succeed."""


# Seconds to wait for a PostgreSQL connection to be made.
CONNECT_TIMEOUT = 10

# PostgreSQL: deadlock_detected, serialization_failure. SQLite serialises writers, so never.
CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_conflict(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in CONFLICT_STATES


def is_duplicate(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError | DuplicateError)


class Database:
    """Owns the engine; `transaction()` is the one unit of work the core uses."""

    def __init__(
        self, url: str, *, echo: bool = False, threaded: bool = False, pool_size: int = 25
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        self._door: _DoorFlag | None = None
        self._yields = False
        inline = False
        if self.is_sqlite:
            ensure_sqlite_dir(url)
            path = parsed.database
            inline = not threaded and path not in (None, "", ":memory:")
            if inline:
                kwargs["async_creator"] = _inline_creator(str(path))
                self._door = _DoorFlag(f"{path}-door")
            else:
                kwargs["connect_args"] = {"timeout": 30}
            # SQLite has one writer at a time. One pooled connection makes transactions queue in
            # asyncio (fair, no polling) instead of in SQLite's busy handler, which sleeps in
            # steps and made the slowest acks ~10x the median.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            # Per process: the door, the inbox worker and the jobs worker are each one, so
            # `allybot serve` holds up to 3 x (pool_size + 5) connections (PostgreSQL's default
            # max_connections is 100). A pool smaller than a worker's concurrency churned
            # connections and re-prepared statements on every batch.
            kwargs.update(pool_size=pool_size, max_overflow=5)
            # A server that is away answers a connect at once (refused); one that black-holes
            # packets would hold each request for asyncpg's default minute.
            kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, inline=inline)
        else:
            _ping_when_idle(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads: on SQLite a deferred BEGIN (no write lock); on PostgreSQL no transaction at
        # all (autocommit), which saves the BEGIN and COMMIT round trips.
        reads = {_READ_ONLY: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._readers = async_sessionmaker(
            self.engine.execution_options(**reads), expire_on_commit=False
        )
        self._gate = _Gate() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One atomic unit: commits on success, rolls back on any error.

        A unique-key violation surfaces as DuplicateError so callers can treat a replayed event
        as already handled. `urgent` transactions (the door, which a platform is waiting on)
        go ahead of the others queued for SQLite's one connection, and on SQLite ahead of the
        other processes' (a worker process waits while a door is writing; see `_DoorFlag`).
        """
        async with self._held(urgent), self._sessions() as session:
            with self._mapped_errors():
                async with session.begin():
                    if not self.is_sqlite:
                        await self._check_out(session)
                    yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A unit that only reads: on SQLite a transaction that takes no write lock, so it
        waits for no other process's writer (nor for the door) and holds none of them up; on
        PostgreSQL each statement on its own (autocommit), so several statements may see
        different moments. Write nothing in it: on SQLite the write lock would be taken midway,
        and may be busy; on PostgreSQL each write would commit at once."""
        async with self._held(urgent=False, writes=False), self._readers() as session:
            with self._mapped_errors():
                async with session.begin():
                    if not self.is_sqlite:
                        await self._check_out(session)
                    yield session

    @asynccontextmanager
    async def connection(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A Core connection for ONE statement, committed when it returns, without the ORM
        session's bookkeeping: the door's group commit, one INSERT of the whole batch.
        On PostgreSQL the statement runs in autocommit, atomic on its own: no BEGIN and COMMIT
        round trips (two of the three a commit took). On SQLite it
        runs in a transaction as `transaction()` does (the write lock is taken up front)."""
        async with self._held(urgent):
            with self._connecting():
                conn = await self.engine.connect()
            try:
                with self._mapped_errors():
                    if self.is_sqlite:
                        async with conn.begin():
                            yield conn
                    else:
                        await conn.execution_options(isolation_level="AUTOCOMMIT")
                        yield conn
            finally:
                await conn.close()

    @asynccontextmanager
    async def _held(self, urgent: bool, *, writes: bool = True) -> AsyncIterator[None]:
        """The turn a transaction waits for: SQLite's one connection (urgent ones first), and
        the door flag shared with other processes (raised by the door, waited on by others
        before they write)."""
        door = self._door
        if door is not None and urgent:
            door.raise_()
        try:
            if (
                door is not None
                and writes
                and not urgent
                and self._yields_to_door
                and time.monotonic() - _yielded.get() > door.HOLD
            ):
                await door.wait_clear()
            if self._gate is None:
                yield
            else:
                async with self._gate.hold(urgent=urgent):
                    yield
        finally:
            if door is not None and urgent:
                door.lower()

    @staticmethod
    @contextlib.contextmanager
    def _mapped_errors() -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            raise DuplicateError(str(exc.orig)) from exc
        except DBAPIError as exc:
            if is_conflict(exc):
                raise ConflictError(str(exc.orig)) from exc
            if is_unavailable(exc):
                raise DatabaseUnavailable.from_error(exc) from exc
            raise
        except PoolTimeout as exc:
            raise DatabaseUnavailable.from_error(exc) from exc

    @staticmethod
    async def _check_out(session: AsyncSession) -> None:
        """Takes the transaction's connection now (pinged if it sat idle in the pool, so one the
        server dropped meanwhile is replaced: `_ping_when_idle`)."""
        with Database._connecting():
            await session.connection()

    @staticmethod
    @contextlib.contextmanager
    def _connecting() -> Iterator[None]:
        """Around taking a connection from the pool: a failure there can only be the
        database's."""
        try:
            yield
        except Exception as exc:
            if is_unavailable(exc, connecting=True):
                raise DatabaseUnavailable.from_error(exc) from exc
            raise

    async def yield_to_door(self) -> None:
        """Before a worker starts a piece of work (an inbox event): waits as its writes would
        (`_DoorFlag`), so that the work's reads and platform look-ups leave the door the cores
        too. An inbox worker applies up to 80 events at once; in a burst their look-ups, run
        while their writes waited, cost the door a quarter of its acks on PostgreSQL
        (benchmarks/ingest.py). The turn it was given covers the work's first transaction."""
        door = self._door
        if door is not None and self._yields_to_door:
            await door.wait_clear()
            _yielded.set(time.monotonic())

    @property
    def _yields_to_door(self) -> bool:
        """Whether this process's work waits for a door's (always on one SQLite file; on
        PostgreSQL in the workers `share_door` told to)."""
        return self._gate is not None or self._yields

    @contextlib.contextmanager
    def door_waiting(self) -> Iterator[None]:
        """Around a request waiting at the door for its commit: enough of them at once make
        the other processes' transactions yield to the door a while (`_DoorFlag`)."""
        door = self._door
        if door is None:
            yield
            return
        door.waiting(+1)
        try:
            yield
        finally:
            door.waiting(-1)

    def share_door(self, path: str, *, yields: bool) -> None:
        """On PostgreSQL: the door and the worker processes beside it on one host share a door
        flag at `path`, as on SQLite, so that a worker (`yields`) starts no transaction while
        the door is committing. They share the cores, and the server's processes that run the
        workers' statements are not niced with them: without this the door acknowledged at
        half the rate when the workers were busy (benchmarks/ingest.py)."""
        if not self.is_sqlite:
            self._door = _DoorFlag(path)
            self._yields = yields

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._door is not None:
            self._door.close()


class _Gate:
    """SQLite's one connection, handed out in order, urgent waiters first (a fair lock whose
    queue has two classes)."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def hold(self, *, urgent: bool) -> AsyncIterator[None]:
        if self._busy:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._normal).append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # it was handed to us as we were cancelled: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        (self._urgent if urgent else self._normal).remove(waiter)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still busy: ownership passes to the waiter
                    return
        self._busy = False


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder; the default lives under DATA_DIR."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


# A pooled connection idle this long is pinged before it is used again (PostgreSQL).
PING_IDLE = 2.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling, for connections that sat in the pool: one the server
    dropped meanwhile (a restart, a failover, an idle timeout) is replaced before a transaction
    meets it. SQLAlchemy's pool_pre_ping checked every checkout instead, and asyncpg's ping is
    BEGIN, a statement and ROLLBACK: three round trips per transaction, more than the door's
    whole commit of a batch. A connection in steady use needs none; a disconnect it meets in
    use is an outage as any other (store/errors.py) and invalidates the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_IDLE:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError(f"a pooled connection was dropped: {exc}") from exc


_READ_ONLY = "allybot_read_only"  # an execution option: the transaction only reads


def _configure_sqlite(engine: AsyncEngine, *, inline: bool) -> None:
    # WAL lets readers run beside the writer; BEGIN IMMEDIATE takes the write lock up front so two
    # writers queue on busy_timeout instead of failing on a lock upgrade ("database is locked").
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not inline:  # the inline connection is opened in autocommit mode already
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Inline, a busy database is polled asynchronously (`_InlineSqlite`), never waited on.
        cursor.execute("PRAGMA busy_timeout=0" if inline else "PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read takes no write lock: it neither waits for a writer nor holds one up (WAL).
        read = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


# ----- SQLite on the event loop's thread ------------------------------------------------------

T = TypeVar("T")
BUSY_LIMIT = 30.0  # seconds a statement waits for another process's write lock, as before
BUSY_POLL = (0.0005, 0.002)  # the first polls, then the later ones


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == 5 or "database is locked" in str(exc)


async def _retry_busy(run: Callable[[], T]) -> T:
    """`run()` now, or once another process released the write lock (an asynchronous poll: the
    event loop goes on meanwhile). Only BEGIN IMMEDIATE can be busy in WAL mode."""
    try:
        return run()
    except sqlite3.OperationalError as exc:
        if not _is_busy(exc):
            raise
    began = time.monotonic()
    polls = 0
    while True:
        polls += 1
        await asyncio.sleep(BUSY_POLL[0] if polls < 10 else BUSY_POLL[1])
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() - began > BUSY_LIMIT:
                raise


def _inline_creator(path: str) -> Callable[[], Any]:
    async def connect() -> _InlineSqlite:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        return _InlineSqlite(conn)

    return connect


class _Now:
    """aiosqlite's request queue, as SQLAlchemy's adapter uses it (to set isolation_level):
    runs the request at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class _InlineSqlite:
    """The part of aiosqlite.Connection that SQLAlchemy's aiosqlite adapter uses, running each
    call on the calling thread: no hop to a thread and back per cursor, statement and fetch."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # the adapter checks it is open
        self._tx = _Now()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        await _retry_busy(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


class _InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = None) -> _InlineCursor:
        cursor = self._cursor
        if parameters is None:
            await _retry_busy(lambda: cursor.execute(sql))
        else:
            await _retry_busy(lambda: cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Any) -> _InlineCursor:
        await _retry_busy(lambda: self._cursor.executemany(sql, parameters))
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)

    async def close(self) -> None:
        self._cursor.close()


# When this task last waited its turn at the door flag (`Database.yield_to_door`).
_yielded: contextvars.ContextVar[float] = contextvars.ContextVar("allybot_door_turn", default=0.0)


class _DoorFlag:
    """Gives the door's writes priority over other processes' on one SQLite file.

    SQLite's write lock is not fair: a worker process committing back to back could keep a door
    (which a platform is waiting on) polling for it. The door publishes, in a small shared file
    beside the database, when it started writing and how many of its requests are waiting for
    their commit. A worker about to write waits:

    - while the door is writing (at most one door transaction);
    - in a burst: from when BURST or more requests were waiting at the door at once, until
      HOLD seconds after it last happened; at most MAX_YIELD per transaction. In a burst the
      door commits back to back, and a worker slipping in between held the lock, and a core
      (niced), for milliseconds: that cost the door a third to a half of its acks
      (benchmarks/ingest.py). Looking only at the requests waiting at that instant let workers
      in whenever a commit had just answered its batch. The bound keeps workers applying
      under sustained load (one transaction per process every MAX_YIELD; Slack sends a
      workspace at most 30,000 events an hour, so a flood past the door's rate is a burst,
      not a state); a door that keeps up (a steady 200 events/s) rarely has BURST waiting and
      holds nobody back.

    A flag left by a door that died is ignored after STALE seconds.
    """

    STALE = 0.25
    BURST = 4
    HOLD = 0.05
    MAX_YIELD = 0.1
    _FORMAT = struct.Struct("ddd")  # writing since (0: not), waiting requests, last burst at

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._waiting = 0  # this door's requests waiting for their commit
        self._turn: asyncio.Lock | None = None

    def _mapped(self) -> mmap.mmap | None:
        if self._map is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    if os.fstat(fd).st_size < self._FORMAT.size:
                        os.ftruncate(fd, self._FORMAT.size)
                    self._map = mmap.mmap(fd, self._FORMAT.size)
                finally:
                    os.close(fd)
            except OSError:
                log.warning("no door flag at %s: the door's writes get no priority", self.path)
                return None
        return self._map

    def raise_(self) -> None:
        if (m := self._mapped()) is not None:
            struct.pack_into("d", m, 0, time.time())

    def lower(self) -> None:
        if (m := self._mapped()) is not None:
            struct.pack_into("d", m, 0, 0.0)

    def waiting(self, delta: int) -> None:
        """A request at the door starts (+1) or stops (-1) waiting for its commit."""
        self._waiting += delta
        if (m := self._mapped()) is not None:
            if self._waiting >= self.BURST:
                struct.pack_into("dd", m, 8, float(self._waiting), time.time())
            else:
                struct.pack_into("d", m, 8, float(self._waiting))

    def _wait_for(self, yielding: float = 0.0) -> float | None:
        """Seconds to sleep before looking again, `yielding` seconds into a wait (None: go)."""
        m = self._mapped()
        if m is None:
            return None
        since, waiting, burst_at = self._FORMAT.unpack_from(m, 0)
        now = time.time()
        if since > 0 and now - since < self.STALE:
            return BUSY_POLL[0]  # the door is writing
        # A count not updated for STALE seconds was left by a door that died. (A door's own
        # transactions never wait: it has requests waiting itself.)
        recent = now - burst_at
        burst = (waiting >= self.BURST and recent < self.STALE) or recent < self.HOLD
        burst = burst and not self._waiting
        if burst and yielding < self.MAX_YIELD:
            return BUSY_POLL[1]  # a burst at the door
        return None

    async def wait_clear(self) -> None:
        if self._wait_for() is None:
            return
        # Another process sets it: there is no event to wait on, only the shared page to poll.
        # This process's transactions (a worker runs dozens at once) wait their turn to poll,
        # so that in a long burst one goes every MAX_YIELD, not all of them at once.
        if self._turn is None:
            self._turn = asyncio.Lock()
        async with self._turn:
            began = time.monotonic()
            while (pause := self._wait_for(time.monotonic() - began)) is not None:  # noqa: ASYNC110
                await asyncio.sleep(pause)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
