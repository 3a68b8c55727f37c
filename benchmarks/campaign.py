"""A content campaign to 10,000 opted-in ambassadors over 24 time zones, through the real
bootstrap (nudges capability, scheduler, paced delivery, Slack port) against the local fake Web
API that enforces Slack's per-channel limit (benchmarks/pacing.py's LimitedSlack).

Run by hand (not in CI):

    .venv/bin/python -m benchmarks.campaign                          # 10,000 people
    .venv/bin/python -m benchmarks.campaign --people 1000 --backends sqlite

The clock is the system clock shifted to Wednesday 18 November 2026, 12:00 UTC, so the same
zones are inside working hours on every run (09:00-17:30 Mon-Fri local, the default). Phase 1:
`content add` is typed by an admin; printed are the time to queue the campaign (the command
plus its fan-out job: every nudge row and job written) and the time until everyone inside
working hours has been DMed, against the pacing minimum (each DM is its own Slack lane, 1 per
second with a burst of 3, so the limit itself allows them all at once: the minimum is 0 s and
the time is the system's throughput). Phase 2: the clock jumps an hour at a time through the
next day; everyone else is DMed at their own morning. Checked from the fake's log: nobody DMed
outside their working hours (each accepted post's time against the person's zone), nobody lost,
nobody twice.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adapters.runtime import build_runtime
from benchmarks.pacing import TOKEN, Accepted, LimitedSlack
from bot import calendar
from bot.clock import ShiftedClock
from bot.events import CommandInvoked
from bot.ids import ConversationRef, Platform, UserRef, WorkspaceRef
from bot.settings import Settings
from store import jobs as job_store
from store.models import AmbassadorPerson, Job, Member, NudgePrefs
from tests.databases import (
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)

TEAM = "T0001"
WS = WorkspaceRef(Platform.SLACK, TEAM)
START = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
ZONES = (
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
    "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores", "UTC", "Europe/Paris",
    "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Noumea",
    "Pacific/Auckland",
)  # fmt: skip


class LoggedSlack(LimitedSlack):
    """LimitedSlack that also notes the bot's clock when it accepts each post."""

    def __init__(self, clock: ShiftedClock) -> None:
        super().__init__()
        self.clock = clock
        self.log: list[tuple[str, datetime]] = []

    def _record(self, call: Accepted) -> None:
        self.log.append((call.channel, self.clock.now()))
        super()._record(call)


async def _seed(core: object, people: int) -> dict[str, ZoneInfo]:
    from bot.core import Allybot

    assert isinstance(core, Allybot)
    ws_id = await core.services.directory.workspace_id(WS)
    now = core.services.clock.now()
    zones: dict[str, ZoneInfo] = {}
    async with core.services.db.transaction() as session:
        session.add(
            Member(
                workspace_id=ws_id,
                external_id="UADMIN",
                display_name="Admin",
                tz="UTC",
                profile_refreshed_at=now,
                created_at=now,
            )
        )
        for start in range(0, people, 1000):
            members = []
            for i in range(start, min(people, start + 1000)):
                tz = ZONES[i % len(ZONES)]
                zones[f"U{i}"] = ZoneInfo(tz)
                members.append(
                    Member(
                        workspace_id=ws_id,
                        external_id=f"U{i}",
                        display_name=f"Person {i}",
                        tz=tz,
                        profile_refreshed_at=now,
                        created_at=now,
                    )
                )
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
                        member_id=m.id,
                        workspace_id=ws_id,
                        opted_in=True,
                        kinds="questions content checkins training requests",
                        updated_at=now,
                    )
                )
            await session.flush()
    return zones


async def _settle(core: object, clock: ShiftedClock, within: float) -> None:
    """Until no job is due now and nothing is left to claim (deliveries included)."""
    from bot.core import Allybot

    assert isinstance(core, Allybot)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with core.services.db.transaction() as session:
            due = await job_store.next_due(session)
            running = await session.scalar(
                select(func.count()).select_from(Job).where(Job.status == "running")
            )
        if (due is None or due > clock.now()) and not running:
            return
        await asyncio.sleep(0.2)
    print(f"  settle timed out after {within:.0f} s")


async def run(db_url: str, people: int, workers: int) -> dict[str, float]:
    clock = ShiftedClock()
    clock.set(START)
    async with LoggedSlack(clock) as api:
        settings = Settings(
            DATABASE_URL=db_url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET="bench",
            SLACK_API_URL=api.url,
            ALLYBOT_ADMINS="UADMIN",
            AUTO_MIGRATE=False,
            _env_file=None,
        )
        runtime = await build_runtime(settings, clock=clock, run_worker=False)
        core = runtime.core
        zones = await _seed(core, people)
        inside = {u for u, tz in zones.items() if calendar.WorkingHours(tz).is_working(START)}
        api.expect = len(inside)
        stop = asyncio.Event()
        pool = asyncio.create_task(core.scheduler.run_forever(stop, workers=workers))
        began = time.monotonic()
        await core.handle(
            CommandInvoked(
                event_id="bench-1",
                actor=UserRef(WS, "UADMIN"),
                occurred_at=clock.now(),
                conversation=ConversationRef(WS, "C1"),
                name="ally",
                text='content add https://example.com/launch "Our launch" "Proud of this!"',
            )
        )
        queued_at = float("nan")
        while time.monotonic() - began < 600:
            async with core.services.db.transaction() as session:
                done = await session.scalar(select(Job.status).where(Job.kind == "nudges.fanout"))
            if done == "done":
                queued_at = time.monotonic() - began
                break
            await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(api.done.wait(), timeout=1800)
        except TimeoutError:
            print(f"  phase 1 timed out with {len(api.calls)} of {len(inside)} accepted")
        in_hours = time.monotonic() - began
        phase1 = len(api.calls)
        api.expect = people
        # Jumping the clock while jobs run would expire their leases (they are times on the
        # same clock): let the runs in flight finish first.
        await _settle(core, clock, 600)
        for _ in range(24):
            clock.advance(timedelta(hours=1))
            core.scheduler.wake()
            await _settle(core, clock, 600)
        stop.set()
        await pool
        await runtime.close()
    delivered = Counter(channel for channel, _ in api.log)
    outside = sum(
        1
        for channel, at in api.log
        if channel in zones and not calendar.WorkingHours(zones[channel]).is_working(at)
    )
    return {
        "people": people,
        "inside": len(inside),
        "queue_s": queued_at,
        "in_hours_s": in_hours,
        "phase1": phase1,
        "delivered": len(delivered),
        "lost": len(set(zones) - set(delivered)),
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        "outside": outside,
        "limited": api.limited,
    }


def _report(label: str, f: dict[str, float]) -> None:
    rate = f["phase1"] / f["in_hours_s"] if f["in_hours_s"] else float("nan")
    print(
        f"{label}: {f['people']:.0f} ambassadors, {f['inside']:.0f} inside working hours now.\n"
        f"  queued in {f['queue_s']:.2f} s (command + fan-out: every nudge and job written)\n"
        f"  everyone inside working hours DMed after {f['in_hours_s']:.1f} s ({rate:.0f}/s); "
        f"pacing minimum 0 s (one DM per lane, burst 3)\n"
        f"  through the next day: {f['delivered']:.0f} of {f['people']:.0f} DMed, lost "
        f"{f['lost']:.0f}, duplicates {f['duplicates']:.0f}, DMed outside working hours "
        f"{f['outside']:.0f}, 429s {f['limited']:.0f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            url = await sqlite_database(Path(tmp))
            _report("sqlite", await run(url, args.people, args.workers))
        if "postgresql" in backends:
            try:
                url, name = await postgres_database()
            except BaseException as exc:  # pytest.skip raises BaseException subclasses
                print(f"postgresql: skipped ({exc})")
                return
            try:
                _report("postgresql", await run(url, args.people, args.workers))
            finally:
                await drop_postgres_database(name)
            await drop_template()


if __name__ == "__main__":
    asyncio.run(main())
