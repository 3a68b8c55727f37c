"""The door flag: worker processes yield the database to the door (store/session.py `_DoorFlag`).

Two `_DoorFlag`s on one file stand for two processes: the door's, and a worker's.
"""

from __future__ import annotations

import asyncio
import struct
import time
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.ids import MessageRef
from bot.inbox import LEASE, Inbox
from store import Database
from store import inbox as inbox_store
from store.session import _DoorFlag
from tests.conftest import GENERAL, user
from tests.databases import sqlite_database
from tests.helpers import reaction

YIELD = 0.06


@pytest.fixture
def flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[_DoorFlag, _DoorFlag]:
    monkeypatch.setattr(_DoorFlag, "MAX_YIELD", YIELD)
    path = str(tmp_path / "door-busy")
    return _DoorFlag(path), _DoorFlag(path)


def burst(door: _DoorFlag, delta: int = +1) -> None:
    """BURST requests start (or stop) waiting at the door."""
    for _ in range(_DoorFlag.BURST):
        door.waiting(delta)


async def took(wait: asyncio.Future[None] | asyncio.Task[None]) -> float:
    began = time.monotonic()
    await wait
    return time.monotonic() - began


async def test_a_worker_waits_while_the_door_writes(flags: tuple[_DoorFlag, _DoorFlag]) -> None:
    door, worker = flags
    door.raise_()
    waiting = asyncio.create_task(worker.wait_clear())
    await asyncio.sleep(0.1)
    assert not waiting.done()  # longer than a burst's yield: a write is waited out
    door.lower()
    await asyncio.wait_for(waiting, 1)


async def test_a_burst_at_the_door_holds_a_worker_back_a_bounded_while(
    flags: tuple[_DoorFlag, _DoorFlag],
) -> None:
    door, worker = flags
    for _ in range(_DoorFlag.BURST - 1):
        door.waiting(+1)
    assert await took(worker.wait_clear()) < YIELD / 2  # a door keeping up holds nobody back
    door.waiting(+1)
    assert YIELD * 0.9 <= await took(worker.wait_clear()) < 1.0  # a burst: yields, not forever
    assert await took(door.wait_clear()) < YIELD / 2  # the door's own transactions don't wait


async def test_a_burst_holds_workers_back_between_the_door_s_commits(
    flags: tuple[_DoorFlag, _DoorFlag],
) -> None:
    """A commit answers its whole batch at once: for a moment nobody waits at the door, though
    the burst goes on. A worker looking then still yields, for HOLD after the burst was seen."""
    door, worker = flags
    burst(door)
    burst(door, -1)
    assert _DoorFlag.HOLD * 0.8 <= await took(worker.wait_clear()) < 1.0
    assert await took(worker.wait_clear()) < _DoorFlag.HOLD / 2  # then the burst is over


async def test_in_a_long_burst_one_transaction_goes_at_a_time(
    flags: tuple[_DoorFlag, _DoorFlag],
) -> None:
    door, worker = flags
    burst(door)
    began = time.monotonic()
    ended: list[float] = []

    async def transaction() -> None:
        await worker.wait_clear()
        ended.append(time.monotonic() - began)

    await asyncio.gather(*(transaction() for _ in range(4)))
    # Not all at once when the first's yield ran out: each waited a yield of its own.
    for k, at in enumerate(sorted(ended), start=1):
        assert at >= k * YIELD * 0.9


async def test_the_end_of_a_burst_lets_every_waiting_transaction_go(
    flags: tuple[_DoorFlag, _DoorFlag],
) -> None:
    door, worker = flags
    burst(door)
    waits = [asyncio.create_task(worker.wait_clear()) for _ in range(5)]
    await asyncio.sleep(YIELD / 3)
    burst(door, -1)
    began = time.monotonic()
    await asyncio.gather(*waits)
    assert time.monotonic() - began < YIELD * 2  # not five yields in a row


async def test_a_flag_left_by_a_door_that_died_is_ignored(
    flags: tuple[_DoorFlag, _DoorFlag],
) -> None:
    door, worker = flags
    mapped = door._mapped()
    assert mapped is not None
    long_ago = time.time() - 10 * _DoorFlag.STALE
    struct.pack_into("ddd", mapped, 0, long_ago, 50.0, long_ago)  # writing, and a burst
    assert await took(worker.wait_clear()) < YIELD / 2


async def test_requests_waiting_at_the_door_are_published_while_they_wait(tmp_path: Path) -> None:
    url = await sqlite_database(tmp_path)
    db = Database(url)
    try:
        watcher = _DoorFlag(f"{url.split('///', 1)[1]}-door")
        inbox = Inbox(db, SystemClock(), apply=lambda event: asyncio.sleep(0))
        seen: list[float] = []
        mapped = watcher._mapped()
        assert mapped is not None

        async def watch() -> None:
            while True:
                seen.append(struct.unpack_from("d", mapped, 8)[0])
                await asyncio.sleep(0)

        watching = asyncio.create_task(watch())
        now = SystemClock().now()
        events = [
            reaction(user(f"U{n}"), MessageRef(GENERAL, f"1.{n}"), user("UR"), now)
            for n in range(10)
        ]
        await asyncio.gather(*(inbox.accept(event) for event in events))
        watching.cancel()
        assert max(seen) >= _DoorFlag.BURST  # ten requests shared a commit, and said so
        assert struct.unpack_from("d", mapped, 8)[0] == 0  # none is left waiting
    finally:
        await db.dispose()


async def test_a_worker_starts_no_event_while_the_door_is_in_a_burst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event's application (its profile look-ups and reads, not only its writes) waits for a
    burst at the door: an inbox worker claims up to 80 events at once, and their look-ups cost
    the door's cores while their writes waited."""
    monkeypatch.setattr(_DoorFlag, "MAX_YIELD", 0.5)
    url = await sqlite_database(tmp_path)
    db = Database(url)
    try:
        started: list[str] = []

        async def apply(event: object) -> None:
            started.append(type(event).__name__)  # the core's look-ups would begin here

        inbox = Inbox(db, SystemClock(), apply=apply)
        now = SystemClock().now()
        await inbox.accept(reaction(user("UG"), MessageRef(GENERAL, "1.1"), user("UR"), now))
        async with db.transaction() as session:
            (row,) = await inbox_store.claim(session, SystemClock().now(), limit=1, lease=LEASE)
        door = _DoorFlag(f"{url.split('///', 1)[1]}-door")
        burst(door)
        applying = asyncio.create_task(inbox._apply_one(row))
        await asyncio.sleep(0.15)
        assert started == []  # still yielding to the door
        burst(door, -1)
        await asyncio.wait_for(applying, 2)
        assert started == ["ReactionChanged"]
    finally:
        await db.dispose()
