"""The durable jobs table and event deduplication, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.ids import Platform
from bot.scheduler import MAX_ATTEMPTS, GiveUp, JobContext, Scheduler
from bot.settings import Settings
from store import Database
from store import jobs as job_store
from tests.conftest import GENERAL, user
from tests.helpers import command, console_workspace
from tests.memory_port import MemoryPort


async def test_job_enqueued_before_a_restart_fires_once_after_it(
    db_url: str, clock: ManualClock
) -> None:
    first = Database(db_url)
    ws_id = await console_workspace(first, clock)
    scheduler = Scheduler(first, clock)
    scheduler.register("remind", lambda ctx: asyncio.sleep(0))
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
    restarted.register_payload("remind", remember)  # a handler of the payload alone
    clock.advance(timedelta(hours=1))
    assert await restarted.run_due() == 1
    assert await restarted.run_due() == 0
    assert fired == ["{}"]
    await second.dispose()


async def test_job_running_when_the_process_died_is_taken_again(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
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
        claimed = await job_store.claim(
            session, clock.now(), limit=5, lease=timedelta(minutes=2), kinds={"remind"}
        )
    assert len(claimed) == 1 and claimed[0].lease_token and claimed[0].attempts == 1
    fired: list[JobContext] = []
    scheduler = Scheduler(db, clock)

    async def remember(ctx: JobContext) -> None:
        fired.append(ctx)

    scheduler.register("remind", remember)
    assert await scheduler.run_due() == 0  # still leased
    clock.advance(timedelta(minutes=3))
    assert await scheduler.run_due() == 1
    assert [ctx.payload for ctx in fired] == ["{}"]
    assert fired[0].attempt == 2  # the run that died used one up
    assert fired[0].lease_token != claimed[0].lease_token


async def test_failing_job_backs_off_then_gives_up(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    calls = 0

    async def broken(ctx: JobContext) -> None:
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

    async def final(ctx: JobContext) -> None:
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


async def _add(db: Database, clock: ManualClock, ws_id: int, key: str, **extra: object) -> None:
    async with db.transaction() as session:
        await job_store.enqueue(
            session,
            workspace_id=ws_id,
            kind=str(extra.pop("kind", "remind")),
            key=key,
            payload="{}",
            due_at=clock.now(),
            now=clock.now(),
            **extra,  # type: ignore[arg-type]
        )


async def test_outcomes_are_written_only_under_the_current_lease(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    await _add(db, clock, ws_id, "k")
    lease = timedelta(minutes=1)
    async with db.transaction() as session:
        (first,) = await job_store.claim(
            session, clock.now(), limit=5, lease=lease, kinds={"remind"}
        )
    stale = first.lease_token
    assert stale is not None
    clock.advance(timedelta(minutes=2))  # the first worker stalled past its lease
    async with db.transaction() as session:
        assert await job_store.reap_expired(session, clock.now()) == 1
        (second,) = await job_store.claim(
            session, clock.now(), limit=5, lease=lease, kinds={"remind"}
        )
    assert second.lease_token not in (None, stale)
    async with db.transaction() as session:
        assert await job_store.finish_many(session, [(first.id, stale)], clock.now()) == set()
        assert not await job_store.retry_later(session, first.id, stale, clock.now(), "x")
        assert not await job_store.defer(session, first.id, stale, clock.now(), "x")
        assert not await job_store.give_up(session, first.id, stale, clock.now(), "x")
        assert await job_store.renew(session, {first.id: stale}, clock.now()) == {first.id}
        job = await job_store.get_job(session, ws_id, "k")
        assert job is not None and job.status == "running" and job.attempts == 2
    async with db.transaction() as session:
        assert (
            await job_store.renew(session, {second.id: second.lease_token or ""}, clock.now())
            == set()
        )
        assert await job_store.defer(
            session, second.id, second.lease_token or "", clock.now(), "later"
        )
        job = await job_store.get_job(session, ws_id, "k")
        # A deferral gives its attempt back; the stalled run's stays spent.
        assert job is not None and job.status == "pending" and job.attempts == 1
        assert job.lease_token is None


async def test_finish_many_finishes_each_run_under_its_own_lease(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    for key in ("a", "b", "c"):
        await _add(db, clock, ws_id, key)
    async with db.transaction() as session:
        a, b, c = await job_store.claim(
            session, clock.now(), limit=5, lease=timedelta(minutes=1), kinds={"remind"}
        )
    assert a.lease_token and b.lease_token and c.lease_token
    async with db.transaction() as session:
        finished = await job_store.finish_many(
            session,
            # b's token on c's row (and c's own token not given): c is not matched
            [(a.id, a.lease_token), (b.id, b.lease_token), (c.id, b.lease_token)],
            clock.now(),
        )
        assert await job_store.finish_many(session, [], clock.now()) == set()
    assert finished == {a.id, b.id}
    async with db.transaction() as session:
        states = {key: await job_store.get_job(session, ws_id, key) for key in ("a", "b", "c")}
    assert {k: (j.status if j else None) for k, j in states.items()} == {
        "a": "done",
        "b": "done",
        "c": "running",
    }
    assert states["a"] is not None and states["a"].lease_token is None
    assert states["a"].finished_at is not None
    assert states["c"] is not None and states["c"].lease_token == c.lease_token


async def test_claim_takes_only_kinds_and_platforms_served(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await console_workspace(db, clock)
    await _add(db, clock, ws_id, "any")
    await _add(db, clock, ws_id, "slack", platform="slack")
    await _add(db, clock, ws_id, "teams", platform="teams")
    await _add(db, clock, ws_id, "other", kind="other")
    lease = timedelta(minutes=1)
    async with db.transaction() as session:
        jobs = await job_store.claim(
            session, clock.now(), limit=10, lease=lease, kinds={"remind"}, platforms={"slack"}
        )
        assert sorted(j.key for j in jobs) == ["any", "slack"]
        assert await job_store.next_due(session, kinds={"remind"}, platforms={"slack"}) is not None
    async with db.transaction() as session:
        assert (
            await job_store.claim(
                session, clock.now(), limit=10, lease=lease, kinds={"remind"}, platforms=set()
            )
            == []
        )
        teams = await job_store.get_job(session, ws_id, "teams")
        assert teams is not None and teams.status == "pending" and teams.attempts == 0


async def test_cancel_and_reschedule_by_key(db: Database, clock: ManualClock) -> None:
    ws_id = await console_workspace(db, clock)
    await _add(db, clock, ws_id, "a")
    await _add(db, clock, ws_id, "b")
    later = clock.now() + timedelta(hours=3)
    async with db.transaction() as session:
        assert await job_store.reschedule(session, ws_id, "a", later)
        assert await job_store.cancel(session, ws_id, "b", clock.now())
        assert not await job_store.cancel(session, ws_id, "b", clock.now())  # finished now
        assert not await job_store.reschedule(session, ws_id, "b", later)
        assert not await job_store.reschedule(session, ws_id, "nope", later)
    async with db.transaction() as session:
        assert (
            await job_store.claim(
                session, clock.now(), limit=5, lease=timedelta(minutes=1), kinds={"remind"}
            )
            == []
        )
        a = await job_store.get_job(session, ws_id, "a")
        b = await job_store.get_job(session, ws_id, "b")
        assert a is not None and a.due_at == later
        assert b is not None and b.status == "cancelled"
