"""Engine and unit-of-work handling for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)


class DuplicateError(Exception):
    """A unique key already exists: the same event or natural key was recorded before."""


class ConflictError(Exception):
    """The database rolled the transaction back to break a deadlock or a serialization
    conflict; running the whole transaction again is safe and expected to succeed."""


# PostgreSQL: deadlock_detected, serialization_failure. SQLite serialises writers, so never.
CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_conflict(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in CONFLICT_STATES


def is_duplicate(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError | DuplicateError)


class Database:
    """Owns the engine; `transaction()` is the one unit of work the core uses."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            ensure_sqlite_dir(url)
            kwargs["connect_args"] = {"timeout": 30}
            # SQLite has one writer at a time. One pooled connection makes transactions queue in
            # asyncio (fair, no polling) instead of in SQLite's busy handler, which sleeps in
            # steps and made the slowest acks ~10x the median.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            # Enough for the door, the inbox workers (batches of 20) and the job workers at once:
            # a smaller pool churned connections and re-prepared statements on every batch.
            kwargs.update(pool_pre_ping=True, pool_size=25, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._gate = _Gate() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One atomic unit: commits on success, rolls back on any error.

        A unique-key violation surfaces as DuplicateError so callers can treat a replayed event
        as already handled. `urgent` transactions (the door, which a platform is waiting on)
        go ahead of the others queued for SQLite's one connection.
        """
        if self._gate is None:
            async with self._transaction() as session:
                yield session
            return
        async with self._gate.hold(urgent=urgent), self._transaction() as session:
            yield session

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            try:
                async with session.begin():
                    yield session
            except IntegrityError as exc:
                raise DuplicateError(str(exc.orig)) from exc
            except DBAPIError as exc:
                if is_conflict(exc):
                    raise ConflictError(str(exc.orig)) from exc
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


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


def _configure_sqlite(engine: AsyncEngine) -> None:
    # WAL lets readers run beside the writer; BEGIN IMMEDIATE takes the write lock up front so two
    # writers queue on busy_timeout instead of failing on a lock upgrade ("database is locked").
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
