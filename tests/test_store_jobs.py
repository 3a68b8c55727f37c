"""The durable jobs table and event deduplication, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.ids import Platform
from bot.scheduler import MAX_ATTEMPTS, GiveUp, Scheduler
from bot.settings import Settings
from store import Database
from store import jobs as job_store
from store import workspaces as ws_store
from tests.conftest import GENERAL, user
from tests.helpers import command
from tests.memory_port import MemoryPort


async def _workspace(db: Database, clock: ManualClock) -> int:
    async with db.transaction() as session:
        return (await ws_store.ensure_workspace(session, "console", "acme", clock.now())).id


async def test_job_enqueued_before_a_restart_fires_once_after_it(
    db_url: str, clock: ManualClock
) -> None:
    first = Database(db_url)
    ws_id = await _workspace(first, clock)
    scheduler = Scheduler(first, clock)
    scheduler.register("remind", lambda payload: asyncio.sleep(0))
    async with first.transaction() as session:
        added = await scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind="remind",
            key="remind:1",
            payload="{}",
            due_at=clock.now() + timedelta(hours=1),
        )
        again = await scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind="remind",
            key="remind:1",
            payload="{}",
        )
    assert added and not again  # the idempotency key holds
    assert await scheduler.run_due() == 0  # not due yet
    await first.dispose()  # "restart": a new process with a new engine and scheduler

    second = Database(db_url)
    fired: list[str] = []

    async def remember(payload: str) -> None:
        fired.append(payload)

    restarted = Scheduler(second, clock)
    restarted.register("remind", remember)
    clock.advance(timedelta(hours=1))
    assert await restarted.run_due() == 1
    assert await restarted.run_due() == 0
    assert fired == ["{}"]
    await second.dispose()


async def test_job_running_when_the_process_died_is_taken_again(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace(db, clock)
    async with db.transaction() as session:
        await job_store.enqueue(
            session,
            workspace_id=ws_id,
            kind="remind",
            key="k",
            payload="{}",
            due_at=clock.now(),
            now=clock.now(),
        )
    async with db.transaction() as session:  # a worker claims it, then dies
        claimed = await job_store.claim_due(
            session, clock.now(), limit=5, lease=timedelta(minutes=2)
        )
    assert len(claimed) == 1
    fired: list[str] = []
    scheduler = Scheduler(db, clock)

    async def remember(payload: str) -> None:
        fired.append(payload)

    scheduler.register("remind", remember)
    assert await scheduler.run_due() == 0  # still leased
    clock.advance(timedelta(minutes=3))
    assert await scheduler.run_due() == 1 and fired == ["{}"]


async def test_failing_job_backs_off_then_gives_up(db: Database, clock: ManualClock) -> None:
    ws_id = await _workspace(db, clock)
    calls = 0

    async def broken(payload: str) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("platform down")

    scheduler = Scheduler(db, clock)
    scheduler.register("x", broken)
    async with db.transaction() as session:
        await scheduler.enqueue(session, workspace_id=ws_id, kind="x", key="x1", payload="{}")
    for _ in range(MAX_ATTEMPTS + 2):
        await scheduler.run_due()
        clock.advance(timedelta(hours=2))
    assert calls == MAX_ATTEMPTS
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, "x1")
        assert (
            job is not None and job.status == "failed" and "platform down" in (job.last_error or "")
        )

    async def final(payload: str) -> None:
        raise GiveUp("user left")

    scheduler.register("y", final)
    async with db.transaction() as session:
        await scheduler.enqueue(session, workspace_id=ws_id, kind="y", key="y1", payload="{}")
    await scheduler.run_due()
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, "y1")
        assert job is not None and job.status == "failed" and job.attempts == 1


async def test_concurrent_duplicate_deliveries_count_once(
    settings: Settings, db: Database, clock: ManualClock
) -> None:
    port = MemoryPort()
    port.add("ana", "Ana")
    port.add("bo", "Bo")
    core = bootstrap(settings, db, {Platform.CONSOLE: port}, clock)
    event = command(user("ana"), "kudos <@bo> thanks", GENERAL, clock.now(), event_id="dup")
    await core.services.directory.people([user("ana"), user("bo")])  # warm the profile cache
    replies = await asyncio.gather(*(core.handle(event) for _ in range(4)))
    await core.scheduler.run_due()
    texts = sorted(r.message.text[0].text for r in replies if r is not None)  # type: ignore[union-attr]
    assert sum("Kudos sent" in t for t in texts) == 1, texts
    assert len(port.dms_to("bo")) == 1
