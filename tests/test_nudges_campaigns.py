"""Campaigns at scale: queued in one go, the guardrails applied before each DM is queued, and
every nudge sent once even with two replicas (their own engines) running the jobs together."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.core import Allybot
from bot.ids import UserRef
from bot.messages import ToUser
from bot.settings import Settings
from store import Database
from store.models import AmbassadorPerson, Job, Member, Nudge, NudgePrefs
from tests.conftest import GENERAL, WS
from tests.helpers import command
from tests.memory_port import MemoryPort

KINDS = "questions content checkins training requests"


async def seed(core: Allybot, people: list[tuple[str, str]]) -> None:
    """Opted-in active ambassadors (id, zone), written straight to the store."""
    ws_id = await core.services.directory.workspace_id(WS)
    now = core.services.clock.now()
    async with core.services.db.transaction() as session:
        members = [
            Member(workspace_id=ws_id, external_id=uid, display_name=uid, tz=tz, created_at=now)
            for uid, tz in people
        ]
        session.add_all(members)
        await session.flush()
        for m in members:
            session.add(
                AmbassadorPerson(
                    member_id=m.id,
                    workspace_id=ws_id,
                    status="active",
                    interests="design",
                    joined_at=now,
                    updated_at=now,
                )
            )
            session.add(
                NudgePrefs(
                    member_id=m.id, workspace_id=ws_id, opted_in=True, kinds=KINDS, updated_at=now
                )
            )


async def test_a_campaign_reaches_everyone_in_hours_once_with_two_replicas(
    settings: Settings, db_url: str, port: MemoryPort, clock: ManualClock
) -> None:
    first, second = Database(db_url), Database(db_url)
    try:
        one = bootstrap(settings, first, {port.platform: port}, clock)
        two = bootstrap(settings, second, {port.platform: port}, clock)
        n = 40 if first.is_sqlite else 120
        zones = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Paris"]
        people = [(f"amb{i}", zones[i % len(zones)]) for i in range(n)]
        await seed(one, people)
        reply = await one.handle(
            command(
                UserRef(WS, "ana"), 'content add https://example.com/x "X"', GENERAL, clock.now()
            )
        )
        assert reply is not None
        await asyncio.gather(one.scheduler.run_due(workers=4), two.scheduler.run_due(workers=4))
        async with first.transaction() as session:
            jobs = await session.scalar(
                select(func.count()).select_from(Job).where(Job.kind == "nudges.send")
            )
            statuses = Counter(await session.scalars(select(Nudge.status)))
        assert jobs == n  # queued in one go: one nudge and one job each
        # Wednesday 10:00 UTC: inside working hours in UTC and Paris, not in Tokyo (19:00) nor
        # Los Angeles (02:00).
        assert statuses == {"sent": n // 2, "deferred": n // 2}
        for _ in range(24):  # hour by hour through the next day, both replicas racing
            clock.advance(timedelta(hours=1))
            await asyncio.gather(one.scheduler.run_due(workers=4), two.scheduler.run_due(workers=4))
        dms = Counter(
            p.target.user.id
            for p in port.posted
            if isinstance(p.target, ToUser)
            and p.message.card is not None
            and p.message.card.title.startswith("Something to share")
        )
        assert set(dms) == {uid for uid, _ in people}
        assert set(dms.values()) == {1}  # none lost, none twice
    finally:
        await first.dispose()
        await second.dispose()


async def test_nudges_due_together_for_one_person_are_decided_one_at_a_time(
    settings: Settings, db_url: str, port: MemoryPort, clock: ManualClock
) -> None:
    """Five items due at once, two replicas with four workers each: the spacing and the cap
    see each other's sends (the person's consent row is locked), so one goes now."""
    first, second = Database(db_url), Database(db_url)
    try:
        one = bootstrap(settings, first, {port.platform: port}, clock)
        two = bootstrap(settings, second, {port.platform: port}, clock)
        await seed(one, [("solo", "UTC")])
        for n in range(5):
            await one.handle(
                command(
                    UserRef(WS, "ana"),
                    f'content add https://example.com/{n} "Item {n}"',
                    GENERAL,
                    clock.now(),
                )
            )
        # The fan-outs, then the five sends, both replicas racing for them.
        await asyncio.gather(one.scheduler.run_due(workers=4), two.scheduler.run_due(workers=4))
        await asyncio.gather(one.scheduler.run_due(workers=4), two.scheduler.run_due(workers=4))
        async with first.transaction() as session:
            statuses = Counter(await session.scalars(select(Nudge.status)))
        assert statuses == {"sent": 1, "deferred": 4}
        assert len(port.dms_to("solo")) == 1
    finally:
        await first.dispose()
        await second.dispose()
