"""The durable inbox: committed before the ack, applied after it, each event exactly once,
in order per message; on SQLite and PostgreSQL, through the real core and store."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import asyncpg.transaction
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

import store.session
from bot.bootstrap import bootstrap
from bot.clock import ManualClock, SystemClock
from bot.core import Allybot
from bot.events import Event
from bot.ids import MessageRef
from bot.inbox import BATCH, LEASE, Inbox
from bot.settings import Settings
from store import Database
from store import inbox as inbox_store
from store.models import InboxEvent, Kudos
from tests.conftest import GENERAL, user
from tests.databases import sqlite_database
from tests.helpers import reaction
from tests.memory_port import MemoryPort


async def count(core: Allybot, model: type, *where: object) -> int:
    async with core.services.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def active_kudos(core: Allybot) -> int:
    return await count(core, Kudos, Kudos.revoked_at.is_(None))


def clap(actor: str, message: str, author: str, core: Allybot, **kw: object) -> object:
    return reaction(
        user(actor),
        MessageRef(GENERAL, message),
        user(author),
        core.services.clock.now(),
        **kw,  # type: ignore[arg-type]
    )


async def test_a_reaction_is_committed_at_the_door_and_applied_after(
    core: Allybot, port: MemoryPort
) -> None:
    assert await core.handle(clap("cy", "m1", "bo", core)) is None  # type: ignore[arg-type]
    assert await count(core, InboxEvent) == 1
    assert await active_kudos(core) == 0  # acknowledged, not applied yet
    depth = await core.inbox.depth()  # type: ignore[union-attr]
    assert depth.waiting == 1 and depth.oldest is not None
    assert await core.run_due() >= 1
    assert await active_kudos(core) == 1
    assert "Cy gave you kudos" in port.dms_to("bo")[0].text
    assert (await core.inbox.depth()).waiting == 0  # type: ignore[union-attr]


async def test_redelivery_is_a_no_op_at_the_door(core: Allybot) -> None:
    event = clap("cy", "m1", "bo", core, event_id="Ev1")
    await asyncio.gather(*(core.handle(event) for _ in range(5)))  # type: ignore[arg-type]
    await core.handle(event)  # type: ignore[arg-type]
    assert await count(core, InboxEvent) == 1
    await core.run_due()
    await core.handle(event)  # Slack retrying after it was applied
    await core.run_due()
    assert await count(core, InboxEvent) == 1
    assert await active_kudos(core) == 1


async def test_concurrent_requests_share_commits(core: Allybot) -> None:
    inbox = core.inbox
    assert inbox is not None
    events = [clap(f"p{i}", f"m{i}", "bo", core) for i in range(60)]
    before = inbox.batches
    await asyncio.gather(*(core.handle(e) for e in events))  # type: ignore[arg-type]
    assert await count(core, InboxEvent) == 60
    assert inbox.batches - before < 60 / 2  # group commit: far fewer commits than events


async def test_the_door_s_commit_is_one_statement(
    core: Allybot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each commit at the door is one INSERT of its batch; on PostgreSQL it runs in
    autocommit, with no BEGIN and COMMIT round trips around it, and is durable all the same."""
    inbox = core.inbox
    assert inbox is not None
    await core.handle(clap("p", "m", "bo", core))  # type: ignore[arg-type]  # a pooled connection
    engine = core.services.db.engine.sync_engine
    begun = statements = 0  # on the wire: the BEGINs sent, the other statements

    def on_statement(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        nonlocal begun, statements
        if sql.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            begun += 1
        else:
            statements += 1

    start = asyncpg.transaction.Transaction.start

    async def counted_start(self: asyncpg.transaction.Transaction) -> None:
        nonlocal begun
        begun += 1
        await start(self)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted_start)
    monkeypatch.setattr(store.session, "PING_IDLE", 3600.0)  # no ping of an idle connection
    sa_event.listen(engine, "before_cursor_execute", on_statement)
    before = inbox.batches
    try:
        events = [clap(f"p{i}", f"m{i}", "bo", core) for i in range(10)]
        await asyncio.gather(*(core.handle(e) for e in events))  # type: ignore[arg-type]
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
        monkeypatch.undo()
    commits = inbox.batches - before
    assert statements == commits
    assert begun == (commits if core.services.db.is_sqlite else 0)
    await core.services.db.dispose()  # what was committed outlives the connections
    assert await count(core, InboxEvent) == 11
    assert await core.run_due() >= 11
    assert await active_kudos(core) == 11


async def test_requests_arriving_over_a_few_turns_share_one_commit(core: Allybot) -> None:
    """Requests reach the door a few turns of the event loop apart (each has awaits of its own
    on the way); the door lets them gather before it commits, rather than committing for the
    first one alone."""
    inbox = core.inbox
    assert inbox is not None

    async def arrive(i: int) -> None:
        for _ in range(i % 3):
            await asyncio.sleep(0)
        await core.handle(clap(f"p{i}", f"m{i}", "bo", core))  # type: ignore[arg-type]

    before = inbox.batches
    await asyncio.gather(*(arrive(i) for i in range(12)))
    assert inbox.batches - before == 1
    assert (await inbox.depth()).waiting == 12


async def test_add_and_remove_on_one_message_apply_in_order(core: Allybot) -> None:
    # Added, removed, added, removed: whatever the workers' interleaving, it ends taken back.
    for i, added in enumerate((True, False, True, False)):
        await core.handle(clap("cy", "m1", "bo", core, added=added, event_id=f"E{i}"))  # type: ignore[arg-type]
    other = clap("dee", "m2", "bo", core, event_id="E9")
    await core.handle(other)  # type: ignore[arg-type]
    async with core.services.db.transaction() as session:
        claimed = await inbox_store.claim(session, core.services.clock.now(), limit=10, lease=LEASE)
    # Only the first event of each message's partition can be claimed at a time.
    assert sorted(c.kind for c in claimed) == ["ReactionChanged", "ReactionChanged"]
    assert len(claimed) == 2
    async with core.services.db.transaction() as session:
        for c in claimed:  # give them back, as a worker whose lease ran out
            await inbox_store.retry(session, c, core.services.clock.now(), "test", final=False)
    await core.run_due()
    assert await active_kudos(core) == 1  # Dee's on m2; Cy's on m1 was taken back last


async def test_applied_once_across_a_crash_between_commit_and_apply(
    settings: Settings, db_url: str, clock: ManualClock, port: MemoryPort
) -> None:
    first_db = Database(db_url)
    first = bootstrap(settings, first_db, {port.platform: port}, clock)
    await first.handle(clap("cy", "m1", "bo", first, event_id="Ev-crash"))  # type: ignore[arg-type]
    # A worker claims it, then the process dies before applying it.
    async with first_db.transaction() as session:
        (claimed,) = await inbox_store.claim(session, clock.now(), limit=5, lease=LEASE)
    await first_db.dispose()

    second_db = Database(db_url)
    second = bootstrap(settings, second_db, {port.platform: port}, clock)
    try:
        assert await second.run_due() == 0  # still leased to the dead worker
        clock.advance(LEASE + timedelta(seconds=1))
        await second.run_due()
        await second.run_due()
        assert await active_kudos(second) == 1
        # The effect committed but the process died before "applied" was: the event claim
        # makes applying it again a no-op.
        async with second_db.transaction() as session:
            row = await session.get(InboxEvent, claimed.id)
            assert row is not None and row.status == "done"
            row.status, row.payload = "pending", claimed.payload
        await second.run_due()
        assert await active_kudos(second) == 1
        assert len([p for p in port.dms_to("bo") if "gave you kudos" in p.text]) == 1
    finally:
        await second_db.dispose()


async def test_two_workers_apply_each_event_once(
    settings: Settings, db_url: str, clock: ManualClock, port: MemoryPort
) -> None:
    for i in range(40):
        port.add(f"p{i}", f"P{i}")
    dbs = [Database(db_url), Database(db_url)]
    cores = [bootstrap(settings, d, {port.platform: port}, clock) for d in dbs]
    try:
        await asyncio.gather(
            *(cores[i % 2].handle(clap(f"p{i}", f"m{i % 7}", "bo", cores[0])) for i in range(40))  # type: ignore[arg-type]
        )
        await asyncio.gather(cores[0].run_due(), cores[1].run_due())
        await asyncio.gather(cores[0].run_due(), cores[1].run_due())
        assert await active_kudos(cores[0]) == 40
        assert await count(cores[0], InboxEvent, InboxEvent.status == "done") == 40
        assert len([p for p in port.dms_to("bo") if "gave you kudos" in p.text]) == 40
    finally:
        for d in dbs:
            await d.dispose()


async def test_an_event_that_keeps_failing_is_set_aside_and_logged(
    core: Allybot, caplog: pytest.LogCaptureFixture, clock: ManualClock
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("boom")

    inbox = core.inbox
    assert inbox is not None
    inbox._apply = broken  # type: ignore[method-assign]
    await core.handle(clap("cy", "m1", "bo", core))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        for _ in range(6):
            await inbox.run_due()
            clock.advance(timedelta(minutes=10))
    assert (await inbox.depth()).failed == 1
    assert "gave up" in caplog.text


async def test_a_backlog_tells_the_admins(
    core: Allybot, port: MemoryPort, clock: ManualClock
) -> None:
    inbox = core.inbox
    assert inbox is not None
    await core.handle(clap("ana", "m0", "bo", core))  # type: ignore[arg-type]
    await core.run_due()  # Ana (an ALLYBOT_ADMINS admin) is now a member
    await core.handle(clap("cy", "m1", "bo", core))  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=6))
    await inbox.check_backlog()
    await core.scheduler.run_due()
    assert any("Allybot is behind" in p.text for p in port.dms_to("ana"))


async def test_allybot_status_shows_the_inbox_and_the_jobs(
    tmp_path: object,
    clock: ManualClock,
    port: MemoryPort,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from adapters.cli import main
    from bot.bootstrap import open_database, status_report

    settings = Settings(DATA_DIR=tmp_path, _env_file=None)  # type: ignore[call-arg]
    db = await open_database(settings)
    core = bootstrap(settings, db, {port.platform: port}, clock)
    await core.handle(clap("cy", "m1", "bo", core))  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=42))
    report = await status_report(settings, clock)
    assert "Inbox: 1 waiting (oldest: 42.0 s), 0 failed." in report
    await core.run_due()
    report = await status_report(settings, clock)
    assert "Inbox: 0 waiting (oldest: none)" in report and "done" in report
    await db.dispose()
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert await asyncio.to_thread(main, ["status"]) == 0  # the command itself
    assert "Inbox: 0 waiting" in capsys.readouterr().out
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "new"))
    assert await asyncio.to_thread(main, ["status"]) == 0
    assert "no database at" in capsys.readouterr().out  # said, not a traceback


async def test_a_commit_at_the_door_wakes_one_worker_not_all(tmp_path: Path) -> None:
    """At a trickle each event is its own commit and poke. Every worker woke for each one and
    three found nothing: 11 transactions an event. Now the first worker looks, the others when a
    claim comes back full."""
    db = Database(await sqlite_database(tmp_path))
    begun = 0

    @sa_event.listens_for(db.engine.sync_engine, "begin")
    def counted(*_: object) -> None:
        nonlocal begun
        begun += 1

    applied: list[str] = []
    all_applied = asyncio.Event()

    async def apply(event: Event) -> None:
        applied.append(event.event_id)
        if len(applied) == 20:
            all_applied.set()

    inbox = Inbox(db, SystemClock(), apply=apply, workers=4)
    stop = asyncio.Event()
    running = asyncio.create_task(inbox.run_forever(stop))
    try:
        await asyncio.sleep(0.2)  # the workers' first look, not counted
        begun = 0
        now = SystemClock().now()
        for n in range(20):
            await inbox.accept(
                reaction(user(f"U{n}"), MessageRef(GENERAL, f"1.{n}"), user("UR"), now)
            )
            await asyncio.sleep(0.02)
        await asyncio.wait_for(all_applied.wait(), 10)
        # the door's commit, the claim, the claim that finds the rest empty, the next due time
        # and "applied": 5 (a tolerance of one for a look that crosses the next commit)
        assert begun / 20 <= 6
    finally:
        stop.set()
        inbox.wake()
        await running
        await db.dispose()


async def test_a_backlog_brings_the_other_workers_in(tmp_path: Path) -> None:
    """A full claim calls in the other workers: with three batches waiting, more than one
    batch is applied at once (one worker alone holds one batch at a time)."""
    db = Database(await sqlite_database(tmp_path))
    release = asyncio.Event()
    running = 0
    most = 0

    async def apply(event: Event) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    inbox = Inbox(db, SystemClock(), apply=apply, workers=4)
    stop = asyncio.Event()
    loops = asyncio.create_task(inbox.run_forever(stop))
    try:
        await asyncio.sleep(0.2)  # every worker has looked once and waits
        now = SystemClock().now()
        await asyncio.gather(
            *(
                inbox.accept(
                    reaction(user(f"U{n}"), MessageRef(GENERAL, f"1.{n}"), user("UR"), now)
                )
                for n in range(3 * BATCH)
            )
        )
        async with asyncio.timeout(3):
            while most <= BATCH:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert most > BATCH
    finally:
        release.set()
        stop.set()
        inbox.wake()
        await loops
        await db.dispose()


async def _claim_plan(db: Database) -> str:
    """The plan the database picks for a claim, as it would run it prepared (PostgreSQL's
    generic plan: asyncpg prepares every statement, and PostgreSQL switches to a generic plan
    after five runs)."""
    stmt = inbox_store._claim_stmt(not db.is_sqlite, BATCH)
    async with db.engine.connect() as conn:
        compiled = stmt.compile(dialect=conn.dialect)
        now = SystemClock().now()
        given = compiled.construct_params({"now": now, "until": now + LEASE, "token": "t"})
        if db.is_sqlite:  # the raw driver: datetimes as the store writes them
            given = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in given.items()}
        params = [given[name] for name in compiled.positiontup or ()]
        if db.is_sqlite:
            plan = await conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled.string}", tuple(params)
            )
            return "\n".join(str(row[-1]) for row in plan)
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        prepared = await raw.prepare(f"EXPLAIN {compiled.string}")
        rows = await prepared.fetch(*params)
        await conn.rollback()
        return "\n".join(row[0] for row in rows)


async def test_a_claim_reads_only_the_events_not_applied_yet(db: Database) -> None:
    """Applied events stay a day (redeliveries are no-ops at the door); a claim that walked
    past them cost more with every event of the day (25 ms at 200,000 on PostgreSQL). It reads
    the partial indexes of the live events instead."""
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO inbox (workspace, event_id, kind, partition, payload, status, "
                "attempts, due_at, received_at, applied_at) VALUES "
                + ", ".join(
                    f"('slack:T1', 'Ev{n}', 'ReactionChanged', 'slack:T1:C1:{n}', '{{}}', "
                    "'done', 1, :now, :now, :now)"
                    for n in range(2000)
                )
                + ", ('slack:T1', 'EvNew', 'ReactionChanged', 'slack:T1:C1:new', '{}', "
                "'pending', 0, :now, :now, NULL)"
            ),
            {"now": SystemClock().now()},
        )
        await conn.execute(text("ANALYZE inbox" if not db.is_sqlite else "ANALYZE"))
    plan = await _claim_plan(db)
    # The candidates (head) and the check for an earlier event of their partition (earlier)
    # each read an index of the live events; neither walks the table.
    for alias in ("head", "earlier"):
        lines = [line for line in plan.splitlines() if f" {alias}" in line and "Filter" not in line]
        assert lines and all("ix_inbox_live" in line for line in lines), plan
    assert "Seq Scan" not in plan and "SCAN inbox" not in plan, plan
