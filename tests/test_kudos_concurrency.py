"""Kudos under concurrency and the cost of one kudos, on SQLite and PostgreSQL.

Mutual kudos (A thanks B while B thanks A) used to deadlock on PostgreSQL and lose kudos; the
unit of work now locks the people involved in one order and re-runs a transaction the database
rolled back. These tests drive the real core and store; nothing is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.core import Allybot
from bot.ids import MessageRef
from bot.settings import Settings
from store import Database
from store.models import SCORE_SHARDS, Kudos, KudosTotal, MemberCounter
from tests.conftest import GENERAL, WS, user
from tests.databases import drop_postgres_database, postgres_database
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort

PAIRS = 200


@contextmanager
def transactions(core: Allybot) -> Iterator[list[int]]:
    """Counts the database transactions begun inside the block (all of them, not just units
    of work: a look-up transaction counts too)."""
    count = [0]

    def began(*_: Any) -> None:
        count[0] += 1

    engine = core.services.db.engine.sync_engine
    event.listen(engine, "begin", began)
    try:
        yield count
    finally:
        event.remove(engine, "begin", began)


async def test_mutual_kudos_at_once_lose_nothing_and_count_nothing_twice(
    core: Allybot, port: MemoryPort
) -> None:
    people = [f"p{i}" for i in range(2 * PAIRS)]
    for p in people:
        port.add(p, p.upper())
    now = core.services.clock.now()
    gives = []
    for i in range(PAIRS):
        a, b = people[2 * i], people[2 * i + 1]
        gives.append(command(user(a), f"kudos <@{b}> thanks", GENERAL, now))
        gives.append(command(user(b), f"kudos <@{a}> thanks back", GENERAL, now))

    replies = await asyncio.gather(*(core.handle(g) for g in gives))
    assert all(r is not None and "Kudos sent" in str(r.message.text) for r in replies)

    # A platform retry of every one of them, also at once: nothing more is counted.
    again = await asyncio.gather(*(core.handle(g) for g in gives))
    assert all(r is not None and "Already done" in str(r.message.text) for r in again)

    async with core.services.db.transaction() as session:
        kudos = await session.scalar(select(func.count()).select_from(Kudos))
        received = await session.scalar(
            select(func.sum(MemberCounter.value)).where(MemberCounter.counter == "kudos_received")
        )
        given = await session.scalar(
            select(func.sum(MemberCounter.value)).where(MemberCounter.counter == "kudos_given")
        )
        all_time = await session.scalar(
            select(func.sum(KudosTotal.received)).where(
                KudosTotal.period == "all", KudosTotal.value == ""
            )
        )
    assert (kudos, received, given, all_time) == (2 * PAIRS,) * 4
    await core.run_due()
    assert all(len(port.dms_to(p)) >= 1 for p in people)


async def test_a_reaction_kudos_takes_at_most_two_transactions(
    core: Allybot, port: MemoryPort
) -> None:
    clock = core.services.clock
    message = MessageRef(GENERAL, "1700000000.000100")
    await core.services.directory.workspace_id(GENERAL.workspace)  # once per process
    # First sight of Cy and Bo: their profiles are looked up once, before the unit of work.
    with transactions(core) as cold:
        await core.handle(reaction(user("cy"), message, user("bo"), clock.now()))
    assert 1 <= cold[0] <= 2, cold[0]
    assert len(port.dms_to("bo")) == 0  # queued, not sent: delivery is the worker's job
    await core.run_due()
    assert "Cy gave you kudos" in port.dms_to("bo")[0].text

    # People already known: one transaction for the whole reaction (claim, kudos, counters,
    # totals, badge rules, the DM job).
    second = MessageRef(GENERAL, "1700000000.000200")
    with transactions(core) as warm:
        await core.handle(reaction(user("cy"), second, user("bo"), clock.now()))
    assert warm[0] == 1, warm[0]

    # A reaction nobody acts on costs one read and writes nothing.
    with transactions(core) as other:
        await core.handle(reaction(user("cy"), second, user("bo"), clock.now(), emoji="eyes"))
    assert other[0] == 1, other[0]


async def test_a_failing_listener_does_not_hide_the_reaction_from_the_others(
    core: Allybot, port: MemoryPort
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in some other capability")

    # Subscribe a failing listener ahead of the real ones.
    core._listeners[
        type(reaction(user("cy"), MessageRef(GENERAL, "x"), None, core.services.clock.now()))
    ].insert(0, ("broken.on_reaction", broken))
    message = MessageRef(GENERAL, "1700000000.000300")
    await core.handle(reaction(user("cy"), message, user("bo"), core.services.clock.now()))
    await core.run_due()
    assert "Cy gave you kudos" in port.dms_to("bo")[0].text


async def test_newcomers_first_kudos_do_not_queue_for_one_score_count_row(
    settings: Settings, clock: ManualClock
) -> None:
    """PostgreSQL: every newcomer's first kudos moves them to score 1 on the same boards. While
    another transaction holds one shard's "received, score 1" counts, a kudos to someone of
    another shard commits at once; with one row per count it waited for that commit (which
    is how parallel units queued, each behind the one ahead, on the hot rows)."""
    from sqlalchemy import text

    url, name = await postgres_database()
    db = Database(url)
    try:
        port = MemoryPort()
        people = [f"p{i}" for i in range(2 * SCORE_SHARDS)]
        for p in people:
            port.add(p, p.upper())
        core = bootstrap(settings, db, {port.platform: port}, clock)
        refs = [user(p) for p in people]
        members = await core.services.uow.run(WS, lambda work: work.people(refs), people=refs)
        held = members[user(people[0])].member_id % SCORE_SHARDS
        await core.handle(
            command(user(people[1]), f"kudos <@{people[0]}> warm-up", GENERAL, clock.now())
        )
        async with db.engine.connect() as holder:
            locked = await holder.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM kudos_score_counts WHERE "
                    "direction = 'received' AND score = 1 AND shard = :shard FOR UPDATE) AS rows"
                ),
                {"shard": held},
            )
            assert locked.scalar_one() > 0  # the boards of the warm-up kudos' recipient
            others = [p for p in people if members[user(p)].member_id % SCORE_SHARDS != held]
            giver, recipient = others[-1], others[-2]
            reply = await asyncio.wait_for(
                core.handle(
                    command(user(giver), f"kudos <@{recipient}> thanks", GENERAL, clock.now())
                ),
                timeout=10,
            )
            await holder.rollback()
        assert reply is not None and "Kudos sent" in str(reply.message.text)
    finally:
        await db.dispose()
        await drop_postgres_database(name)
