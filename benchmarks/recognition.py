"""Recognition at scale: leaderboards, profiles and kudos stats in one large workspace.

Run by hand (not in CI):
    .venv/bin/python -m benchmarks.recognition [--members 100000] [--kudos 5000000]
        [--backend sqlite|postgresql|both] [--runs 200] [--verify]

Seeds one workspace (by default 100,000 members and 5,000,000 kudos over two years, busier lately)
with a realistic skew: recipients and givers follow Zipf-like laws (the busiest recipient gets tens
of thousands of kudos, the busiest giver a few a day), ~30% of kudos carry one or two of eight
values, ~1% are taken back, a few thousand badges are held, ~2% of members hide from leaderboards
and ~10% never take part. It writes the aggregate rows the application keeps (kudos_totals for every
week, month, quarter and all time, per value; kudos_score_counts; member_counters; thanked_pairs)
with set-based SQL, equal to what bot/recognition.py writes kudos by kudos: `--verify` first
replays a small world through the real Recognition listener (with people changing their minds
about leaderboards on the way), compares every aggregate row, and checks standing_of against
ranks counted one by one. Loading uses the bulk paths (executemany in one transaction with
synchronous=OFF on SQLite, COPY on PostgreSQL), drops the secondary indexes, unique constraints
and foreign keys of the big tables while loading and recreates them from their own definitions,
then checks the schema is exactly the migrated one; then ANALYZE (VACUUM ANALYZE on PostgreSQL,
whose autovacuum would do the same in a deployment; `--sqlite-no-analyze` leaves SQLite without
statistics, as the bot runs it).

It then times, through the real store functions on a real `Database` (the async SQLAlchemy path
the bot uses, one transaction per command as the bot opens it), after a warm-up:
  leaderboard   what `leaderboard` reads: the top 10 and the viewer's rank, received/given x
                week/month/quarter/all, with and without a #value, viewers at the top, in the
                middle, at the bottom and anywhere
  profile       what `profile` reads: totals this month and all time, badges, top values, recent
                thanks, reward preferences, the member
  stats heavy   `kudos stats` for the busiest recipients (tens of thousands of kudos)
  stats typical `kudos stats` for anyone
and prints p50/p95/max per backend (target: p95 <= 20 ms), the seeding time and database sizes.
"Now" is fixed (Sunday 31 May 2026, 18:00 in the workspace's time zone) so that this week and
this month are nearly full, the expensive end of each period.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import math
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select, text

from bot.calendar import EPOCH, PERIODS, day_start, period_start
from bot.recognition.service import DEFAULT_BADGES
from store import Database
from store import badges as badge_store
from store import kudos as kudos_store
from store import recognition as rec_store
from store import workspaces as ws_store
from store.models import (
    SCORE_SHARDS,
    KudosScoreCount,
    KudosTotal,
    Member,
    MemberCounter,
    MemberPreference,
    ThankedPair,
)
from tests.databases import (
    PG_ADMIN_DSN,
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)

WS_ID = 1
WS_EXTERNAL = "TBENCH"
WS_TZ = "Europe/Paris"
NOW = datetime(2026, 5, 31, 16, 0, tzinfo=UTC)  # Sunday 18:00 in Paris
UNIX = datetime(1970, 1, 1, tzinfo=UTC)
VALUES = ("teamwork", "ownership", "craft", "customer", "courage", "learning", "kindness", "fun")
VALUE_WEIGHTS = (30, 20, 15, 10, 10, 7, 5, 3)
ZONES: tuple[tuple[str | None, int], ...] = (
    ("Europe/Paris", 35),
    ("Europe/London", 10),
    ("America/New_York", 20),
    ("America/Los_Angeles", 10),
    ("Asia/Kolkata", 10),
    ("Asia/Tokyo", 5),
    ("Australia/Sydney", 5),
    (None, 5),  # unknown: the deployment's default (UTC)
)
DEFAULT_TZ = "UTC"
REASONS = (
    "thanks for the thorough review of the release notes",
    "for staying late to get the migration over the line",
    "great demo today, the customers loved it",
    "for patiently walking me through the billing code",
    "for covering the on-call shift at short notice",
    "the new onboarding guide is brilliant",
    "for spotting that bug before it shipped",
    "for organising the team offsite",
    "for the clear write-up of the incident",
    "for mentoring the interns this summer",
    "thank you for the quick turnaround on the contract",
    "for fixing the flaky tests once and for all",
)
REWARD_KINDS = ("public-shoutout", "private-thanks", "learning-budget", "swag", "time-off")
BULK_TABLES = (
    *("kudos", "kudos_values", "kudos_totals", "kudos_score_counts", "thanked_pairs"),
    "member_counters",
)
TARGET_MS = 20.0


# ----- the world: who is who, and the kudos they exchange ------------------------------------


@dataclass(frozen=True)
class Plan:
    members: int
    kudos: int
    seed: int = 20260531
    days: int = 730


class World:
    """Members, their time zones and teams, and the skewed pickers for givers and recipients."""

    def __init__(self, plan: Plan) -> None:
        rng = random.Random(plan.seed)
        n = plan.members
        ids = list(range(1, n + 1))
        zone_names: list[str | None] = [z for z, _ in ZONES]
        self.zone_of: list[str | None] = [None]  # members are numbered from 1
        self.zone_of += rng.choices(zone_names, weights=[w for _, w in ZONES], k=n)
        self.team_of: list[str | None] = [None]
        self.team_of += [
            None if rng.random() < 0.1 else f"Team {rng.randrange(80):02d}" for _ in ids
        ]
        self.bots = set(rng.sample(ids, max(1, n // 5000)))
        people = [i for i in ids if i not in self.bots]
        self.inactive = set(rng.sample(people, len(people) // 10))
        active = [i for i in people if i not in self.inactive]
        self.by_received = rng.sample(active, len(active))  # rank order of recipients
        self.by_given = rng.sample(active, len(active))
        self.recipient_cum = _cumulative([1 / (k + 10) for k in range(1, len(active) + 1)])
        self.giver_cum = _cumulative([1 / (k + 300) for k in range(1, len(active) + 1)])
        self.opted_out = set(rng.sample(people, max(1, n // 50)))
        self.opted_out.add(self.by_received[min(2, len(active) - 1)])  # a top-3 name hides
        self.curators = rng.sample(active, min(10, len(active)))


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


@dataclass(frozen=True, slots=True)
class Given:
    id: int
    giver: int
    recipient: int
    at: int  # microseconds since 1970 (UTC)
    source: str
    channel: int
    reason: str
    values: tuple[str, ...]
    revoked: int | None  # microseconds since 1970 (UTC)


def us(when: datetime) -> int:
    return (when - UNIX) // timedelta(microseconds=1)


def from_us(value: int) -> datetime:
    return UNIX + timedelta(microseconds=value)


def local_days(plan: Plan) -> list[date]:
    last = NOW.astimezone(ZoneInfo(WS_TZ)).date()
    return [last - timedelta(days=plan.days - 1 - i) for i in range(plan.days)]


def _per_day(plan: Plan, days: list[date]) -> list[int]:
    """Kudos per day: busier lately (x4 over two years), quiet at weekends; sums to plan.kudos."""
    weights = [
        (0.4 + 1.2 * i / max(1, len(days) - 1)) * (0.15 if d.weekday() >= 5 else 1.0)
        for i, d in enumerate(days)
    ]
    total = sum(weights)
    exact = [plan.kudos * w / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: plan.kudos - sum(counts)]:
        counts[i] += 1
    return counts


def kudos_by_day(plan: Plan, world: World) -> Iterator[tuple[date, list[Given]]]:
    """Every kudos, in time order (ids grow with time, as they do in the bot), day by day in the
    workspace's time zone."""
    rng = random.Random(plan.seed + 1)
    tz = ZoneInfo(WS_TZ)
    now = us(NOW)
    days = local_days(plan)
    next_id = 1
    recipients, givers = world.by_received, world.by_given
    rcum, gcum = world.recipient_cum, world.giver_cum
    for day, n in zip(days, _per_day(plan, days), strict=True):
        if n == 0:
            continue
        start = us(datetime(day.year, day.month, day.day, tzinfo=tz))
        nxt = day + timedelta(days=1)
        end = min(us(datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)), now)
        span = end - start
        # Mostly working hours (08:00-18:00 on ordinary days), some at any time.
        times = sorted(
            start
            + (
                int(span * (8 + 10 * rng.random()) / 24)
                if rng.random() < 0.85
                else rng.randrange(span)
            )
            for _ in range(n)
        )
        gs = rng.choices(givers, cum_weights=gcum, k=n)
        rs = rng.choices(recipients, cum_weights=rcum, k=n)
        out = []
        for at, g, r in zip(times, gs, rs, strict=True):
            while r == g:
                r = rng.choices(recipients, cum_weights=rcum)[0]
            u = rng.random()
            values: tuple[str, ...] = ()
            if u < 0.3:
                first = rng.choices(VALUES, VALUE_WEIGHTS)[0]
                values = (first,)
                if u < 0.1:
                    second = first
                    while second == first:
                        second = rng.choices(VALUES, VALUE_WEIGHTS)[0]
                    values = tuple(sorted((first, second)))
            u = rng.random()
            source = "command" if u < 0.7 else "reaction" if u < 0.95 else "message_action"
            revoked = None
            if source == "reaction" and rng.random() < 0.05:
                revoked = min(at + rng.randrange(60_000_000, 3_600_000_000), now)
            reason = REASONS[rng.randrange(len(REASONS))] + "".join(f" #{v}" for v in values)
            out.append(
                Given(next_id, g, r, at, source, rng.randrange(1, 201), reason, values, revoked)
            )
            next_id += 1
        yield day, out


class Tally:
    """What the recognition listener keeps per person, computed in one pass in time order:
    kudos received and given (net of taken-back ones, the row exists once touched) and the giving
    streak in the giver's own weeks."""

    def __init__(self, plan: Plan, world: World) -> None:
        n = plan.members + 1
        self.world = world
        self.received = [0] * n
        self.given = [0] * n
        self.touched_received = bytearray(n)
        self.touched_given = bytearray(n)
        self.streak: dict[int, list[int]] = {}  # giver -> [last week (ordinal), weeks]
        days = local_days(plan)
        first, last = days[0] - timedelta(days=3), days[-1] + timedelta(days=3)
        self.midnights: dict[str | None, tuple[list[int], int]] = {}
        for zone, _ in ZONES:
            tz = ZoneInfo(zone or DEFAULT_TZ)
            marks = []
            d = first
            while d <= last:
                marks.append(us(datetime(d.year, d.month, d.day, tzinfo=tz)))
                d += timedelta(days=1)
            self.midnights[zone] = (marks, first.toordinal())

    def add(self, k: Given) -> None:
        active = k.revoked is None
        self.received[k.recipient] += active
        self.given[k.giver] += active
        self.touched_received[k.recipient] = 1
        self.touched_given[k.giver] = 1
        marks, base = self.midnights[self.world.zone_of[k.giver]]
        day = base + bisect.bisect_right(marks, k.at) - 1
        week = day - (day - 1) % 7  # date.fromordinal(1) is a Monday
        mine = self.streak.get(k.giver)
        if mine is None:
            self.streak[k.giver] = [week, 1]
        elif mine[0] != week:
            mine[1] = mine[1] + 1 if mine[0] == week - 7 else 1
            mine[0] = week

    def counters(self) -> Iterator[tuple[int, str, int]]:
        for m in range(1, len(self.received)):
            if self.touched_received[m]:
                yield m, "kudos_received", self.received[m]
            if self.touched_given[m]:
                yield m, "kudos_given", self.given[m]
            if m in self.streak:
                last, weeks = self.streak[m]
                yield m, "give_streak_weeks", weeks
                yield m, "last_give_week", last


# ----- loading: one interface over sqlite3 and asyncpg ----------------------------------------


class Sink(Protocol):
    name: str

    def ts(self, value: int | None) -> Any: ...
    def day(self, value: date) -> Any: ...
    def flag(self, value: bool) -> Any: ...
    async def execute(self, sql: str) -> None: ...
    async def fetch(self, sql: str) -> list[tuple[Any, ...]]: ...
    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None: ...
    async def schema(self) -> list[tuple[Any, ...]]: ...
    async def begin_bulk(self) -> None: ...
    async def end_bulk(self) -> None: ...
    async def close(self) -> None: ...


class SqliteSink:
    name = "sqlite"

    def __init__(self, path: str, *, analyze: bool = True) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.analyze = analyze
        self._saved: list[str] = []
        self._days: dict[int, str] = {}

    def ts(self, value: int | None) -> Any:
        # SQLAlchemy's SQLite DATETIME storage format, in UTC, as UTCDateTime writes it.
        if value is None:
            return None
        day, rest = divmod(value, 86_400_000_000)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        secs, micro = divmod(rest, 1_000_000)
        h, secs = divmod(secs, 3600)
        m, s = divmod(secs, 60)
        return f"{prefix} {h:02d}:{m:02d}:{s:02d}.{micro:06d}"

    def day(self, value: date) -> Any:
        return value.isoformat()

    def flag(self, value: bool) -> Any:
        return 1 if value else 0

    async def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql).fetchall())

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def schema(self) -> list[tuple[Any, ...]]:
        return await self.fetch(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
        )

    async def begin_bulk(self) -> None:
        # Seeding only: no journal, no fsync, a large cache, two sorter threads. The bot's own
        # connections keep WAL and synchronous=NORMAL (store/session.py).
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1048576",
            "threads=2",
            "foreign_keys=OFF",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        tables = ", ".join(f"'{t}'" for t in BULK_TABLES)
        for name, sql in await self.fetch(
            "SELECT name, sql FROM sqlite_master "
            f"WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables})"
        ):
            self._saved.append(sql)
            self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.execute("BEGIN")

    async def end_bulk(self) -> None:
        for sql in self._saved:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        if self.analyze:
            self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA journal_mode=WAL")

    async def close(self) -> None:
        self.conn.close()


class PostgresSink:
    name = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._indexes: list[str] = []
        self._constraints: list[tuple[str, str, str, str]] = []

    @classmethod
    async def connect(cls, dsn: str) -> PostgresSink:
        return cls(await asyncpg.connect(dsn))

    def ts(self, value: int | None) -> Any:
        return None if value is None else from_us(value)

    def day(self, value: date) -> Any:
        return value

    def flag(self, value: bool) -> Any:
        return value

    async def execute(self, sql: str) -> None:
        await self.conn.execute(sql)

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(sql)]

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def schema(self) -> list[tuple[Any, ...]]:
        return await self.fetch(
            "SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = 'public' "
            "UNION ALL SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' ORDER BY 1, 2, 3"
        )

    async def begin_bulk(self) -> None:
        for setting in (
            "synchronous_commit = off",
            "maintenance_work_mem = '1GB'",
            "work_mem = '256MB'",
            "max_parallel_maintenance_workers = 2",
        ):
            await self.conn.execute(f"SET {setting}")
        tables = ", ".join(f"'{t}'::regclass" for t in BULK_TABLES)
        # Foreign keys and unique constraints (not primary keys: rows arrive in their order).
        self._constraints = [
            (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
            for r in await self.conn.fetch(
                "SELECT contype::text, conrelid::regclass::text, conname, "
                "pg_get_constraintdef(oid) FROM pg_constraint "
                f"WHERE conrelid IN ({tables}) AND contype IN ('f', 'u') "
                "ORDER BY contype = 'u' DESC, conname"
            )
        ]
        self._indexes = [
            str(r[0])
            for r in await self.conn.fetch(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                f"WHERE i.indrelid IN ({tables}) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
        ]
        index_names = [
            str(r[0])
            for r in await self.conn.fetch(
                "SELECT i.indexrelid::regclass::text FROM pg_index i "
                f"WHERE i.indrelid IN ({tables}) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
        ]
        for _kind, table, name, _definition in sorted(self._constraints, key=lambda c: c[0] != "f"):
            await self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name in index_names:
            await self.conn.execute(f"DROP INDEX {name}")

    async def end_bulk(self) -> None:
        for sql in self._indexes:
            await self.conn.execute(sql)
        # Unique constraints first, then foreign keys (which check every row once).
        for kind in ("u", "f"):
            for k, table, name, definition in self._constraints:
                if k == kind:
                    await self.conn.execute(
                        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                    )
        for table in ("workspaces", "members", "kudos", "badges", "badge_awards"):
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await self.conn.execute("VACUUM (ANALYZE)")

    async def close(self) -> None:
        await self.conn.close()


# ----- seeding ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


async def seed_people(sink: Sink, plan: Plan, world: World, *, everything: bool = True) -> None:
    """The workspace, its settings and members; with `everything`, preferences and roles too."""
    now = us(NOW)
    rng = random.Random(plan.seed + 2)
    await sink.insert(
        "workspaces",
        ("id", "platform", "external_id", "name", "created_at"),
        [(WS_ID, "slack", WS_EXTERNAL, "Bench Corp", sink.ts(now - 800 * 86_400_000_000))],
    )
    await sink.insert(
        "workspace_settings",
        ("workspace_id", "recognition_channel", "timezone", "updated_at"),
        [(WS_ID, "C00001", WS_TZ, sink.ts(now))],
    )
    cols = (
        *("id", "workspace_id", "external_id", "display_name", "tz", "is_bot", "team"),
        *("profile_refreshed_at", "created_at"),
    )
    rows = []
    for m in range(1, plan.members + 1):
        joined = now - rng.randrange(30, 800) * 86_400_000_000
        rows.append(
            (
                m,
                WS_ID,
                f"U{m:08d}",
                f"Person {m}",
                world.zone_of[m],
                sink.flag(m in world.bots),
                world.team_of[m],
                sink.ts(now - rng.randrange(1, 30) * 86_400_000_000),
                sink.ts(joined),
            )
        )
        if len(rows) >= 50_000:
            await sink.insert("members", cols, rows)
            rows = []
    await sink.insert("members", cols, rows)
    if not everything:
        return
    prefs = []
    rewards = []
    for m in range(1, plan.members + 1):
        hidden = m in world.opted_out
        if hidden or rng.random() < 0.08:
            opened = sink.ts(now - rng.randrange(1, 300) * 86_400_000_000)
            prefs.append(
                (m, sink.flag(hidden), sink.flag(rng.random() < 0.05), opened, sink.ts(now))
            )
        if rng.random() < 0.1:
            for kind in rng.sample(REWARD_KINDS, rng.randint(1, 3)):
                note = "a coffee with the team" if kind == "swag" else None
                rewards.append((m, kind, note, sink.ts(now)))
    await sink.insert(
        "member_preferences",
        ("member_id", "leaderboard_opt_out", "announce_opt_out", "home_opened_at", "updated_at"),
        prefs,
    )
    await sink.insert("reward_preferences", ("member_id", "kind", "note", "updated_at"), rewards)
    await sink.insert(
        "roles",
        ("member_id", "role", "workspace_id", "granted_by", "granted_at"),
        [(c, "curator", WS_ID, None, sink.ts(now)) for c in world.curators],
    )


async def seed_badges(sink: Sink, plan: Plan, world: World) -> int:
    """The default badges with their rules, a few custom ones, and a few thousand awards that
    favour busy people (repeatable badges give the busiest dozens of awards)."""
    rng = random.Random(plan.seed + 3)
    now = us(NOW)
    two_years = plan.days * 86_400_000_000
    catalogue: list[tuple[str, str, str, str, str | None, int, bool]] = [
        (*b, False) for b in DEFAULT_BADGES
    ]
    catalogue += [
        ("fan-favourite", "Fan favourite", "⭐", "Loved by all.", "kudos_received", 250, True),
        ("big-giver", "Big giver", "🎁", "Gives generously.", "kudos_given", 100, True),
        ("mentor", "Mentor", "🧭", "Helped others grow.", None, 0, False),
        ("launch-crew", "Launch crew", "🚀", "Shipped the big launch.", None, 0, False),
        ("firefighter", "Firefighter", "🧯", "Saved the day.", None, 0, False),
    ]
    badge_rows, rule_rows = [], []
    for i, (slug, name, emoji, description, counter, threshold, repeat) in enumerate(catalogue):
        badge_rows.append(
            (
                *(i + 1, WS_ID, slug, name, emoji, None, description, description),
                *(sink.flag(repeat), sink.flag(True), None, sink.ts(now - two_years)),
                sink.ts(now),
            )
        )
        if counter:
            rule_rows.append((i + 1, counter, threshold, sink.ts(now - two_years)))
    await sink.insert(
        "badges",
        (
            *("id", "workspace_id", "slug", "name", "emoji", "image_url", "description"),
            *("how_earned", "repeatable", "citation_required", "retired_at", "created_at"),
            "updated_at",
        ),
        badge_rows,
    )
    await sink.insert("badge_rules", ("badge_id", "counter", "threshold", "updated_at"), rule_rows)
    slug_id = {b[0]: i + 1 for i, b in enumerate(catalogue)}
    awards: dict[tuple[int, int, str], tuple[str, int | None]] = {}
    recipients, rcum = world.by_received, world.recipient_cum
    scale = max(1, plan.members // 25)  # 4,000 awards for 100,000 members

    def pick() -> int:
        return rng.choices(recipients, cum_weights=rcum)[0]

    for _ in range(scale // 3):
        awards[(slug_id["appreciated"], pick(), "rule")] = ("Received 10 kudos.", None)
    for g in rng.sample(world.by_given, min(len(world.by_given), scale // 4)):
        awards[(slug_id["first-kudos"], g, "rule")] = ("Gave their first kudos.", None)
    for rank, m in enumerate(recipients[:40]):
        for level in range(1, max(2, 60 // (rank + 1)) + 1):
            awards[(slug_id["fan-favourite"], m, f"rule:{level}")] = (
                f"Reached {level * 250} kudos received.",
                None,
            )
    manual = ("mentor", "launch-crew", "firefighter", "trained-ambassador")
    for i in range(scale // 3):
        awards[(slug_id[rng.choice(manual)], pick(), f"manual:EvB{i:07d}")] = (
            "Went far beyond their role this quarter.",
            rng.choice(world.curators),
        )
    rows = []
    for n, ((badge, member, key), (citation, by)) in enumerate(sorted(awards.items())):
        at = now - rng.randrange(two_years)
        revoked = by is not None and rng.random() < 0.02
        rows.append(
            (
                *(n + 1, WS_ID, badge, member, key, citation, by, sink.ts(at)),
                sink.ts(at + 86_400_000_000) if revoked else None,
                by if revoked else None,
                "Given by mistake." if revoked else None,
            )
        )
    await sink.insert(
        "badge_awards",
        (
            *("id", "workspace_id", "badge_id", "member_id", "award_key", "citation"),
            *("awarded_by", "awarded_at", "revoked_at", "revoked_by", "revoke_reason"),
        ),
        rows,
    )
    return len(rows)


def _expanded(first: int, last: int) -> str:
    """One row per (member, value) a kudos counts for: recipient and giver, all values ('') and
    each of its values; `r`/`g` are 1 while the kudos stands, 0 once taken back (the listener
    adds 1 then removes it, leaving the row)."""
    live = "CASE WHEN k.revoked_at IS NULL THEN 1 ELSE 0 END"
    ids = f"k.id BETWEEN {first} AND {last}"
    vids = f"v.kudos_id BETWEEN {first} AND {last}"
    join = "kudos k JOIN kudos_values v ON v.kudos_id = k.id"
    return (
        f"SELECT k.recipient_id AS member_id, '' AS value, {live} AS r, 0 AS g "
        f"FROM kudos k WHERE {ids} "
        f"UNION ALL SELECT k.giver_id, '', 0, {live} FROM kudos k WHERE {ids} "
        f"UNION ALL SELECT k.recipient_id, v.value, {live}, 0 FROM {join} WHERE {ids} AND {vids} "
        f"UNION ALL SELECT k.giver_id, v.value, 0, {live} FROM {join} WHERE {ids} AND {vids}"
    )


INSERT_TOTALS = (
    "INSERT INTO kudos_totals (workspace_id, period, period_start, value, member_id, received, "
    "given) "
)


async def seed(sink: Sink, plan: Plan) -> Seeded:
    out = Seeded()
    began = last = time.perf_counter()

    def step(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        out.steps[name] = now - last
        last = now

    world = World(plan)
    before = await sink.schema()
    await sink.begin_bulk()
    await seed_people(sink, plan, world)
    step("people")

    tally = Tally(plan, world)
    chunks: list[tuple[date, int, int]] = []  # local day, first id, last id
    kudos_cols = (
        *("id", "workspace_id", "giver_id", "recipient_id", "reason", "source", "source_key"),
        *("conversation_id", "message_id", "message_link", "created_at", "revoked_at"),
    )
    rows: list[tuple[Any, ...]] = []
    values: list[tuple[int, str]] = []
    n_values = 0
    for day, given in kudos_by_day(plan, world):
        chunks.append((day, given[0].id, given[-1].id))
        for k in given:
            tally.add(k)
            secs = k.at // 1_000_000
            msg = f"{secs}.{k.id % 1_000_000:06d}"
            channel = f"C{k.channel:05d}"
            if k.source == "command":
                key, message, link = f"cmd:Ev{k.id:09d}", None, None
            else:
                key, message = f"msg:{channel}:{msg}", msg
                link = f"https://bench.slack.com/archives/{channel}/p{msg.replace('.', '')}"
            rows.append(
                (
                    *(k.id, WS_ID, k.giver, k.recipient, k.reason, k.source, key, channel),
                    *(message, link, sink.ts(k.at), sink.ts(k.revoked)),
                )
            )
            values.extend((k.id, v) for v in k.values)
        if len(rows) >= 100_000:
            await sink.insert("kudos", kudos_cols, rows)
            await sink.insert("kudos_values", ("kudos_id", "value"), values)
            n_values += len(values)
            rows, values = [], []
    await sink.insert("kudos", kudos_cols, rows)
    await sink.insert("kudos_values", ("kudos_id", "value"), values)
    n_values += len(values)
    step("kudos")

    # Totals, set-based: weeks and months straight from the kudos of their days (ids grow with
    # time, so a period is an id range), quarters from their months, all time from quarters.
    for period in ("week", "month"):
        spans: dict[date, list[int]] = {}
        for day, first, last_id in chunks:
            start = day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)
            span = spans.setdefault(start, [first, last_id])
            span[1] = last_id
        for start, (first, last_id) in spans.items():
            await sink.execute(
                f"{INSERT_TOTALS}SELECT {WS_ID}, '{period}', '{start.isoformat()}', value, "
                f"member_id, SUM(r), SUM(g) FROM ({_expanded(first, last_id)}) x "
                "GROUP BY value, member_id"
            )
    quarters = sorted({d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1) for d, _, _ in chunks})
    for q in quarters:
        end = date(q.year + (q.month == 10), (q.month + 2) % 12 + 1, 1)
        await sink.execute(
            f"{INSERT_TOTALS}SELECT {WS_ID}, 'quarter', '{q.isoformat()}', value, member_id, "
            "SUM(received), SUM(given) FROM kudos_totals "
            f"WHERE workspace_id = {WS_ID} AND period = 'month' "
            f"AND period_start >= '{q.isoformat()}' AND period_start < '{end.isoformat()}' "
            "GROUP BY value, member_id"
        )
    await sink.execute(
        f"{INSERT_TOTALS}SELECT {WS_ID}, 'all', '{EPOCH.isoformat()}', value, member_id, "
        "SUM(received), SUM(given) FROM kudos_totals "
        f"WHERE workspace_id = {WS_ID} AND period = 'quarter' GROUP BY value, member_id"
    )
    # How many people have each score on each board, board by board, hidden people left out.
    boards = [("all", EPOCH), *(("quarter", q) for q in quarters)]
    boards += [("month", d) for d in sorted({d.replace(day=1) for d, _, _ in chunks})]
    boards += [("week", d) for d in sorted({d - timedelta(d.weekday()) for d, _, _ in chunks})]
    for period, start in boards:
        for direction in ("given", "received"):
            await sink.execute(
                "INSERT INTO kudos_score_counts (workspace_id, period, period_start, value, "
                f"direction, score, shard, people) SELECT {WS_ID}, '{period}', "
                f"'{start.isoformat()}', value, '{direction}', {direction}, "
                f"member_id % {SCORE_SHARDS}, COUNT(*) FROM kudos_totals "
                f"WHERE workspace_id = {WS_ID} AND period = '{period}' "
                f"AND period_start = '{start.isoformat()}' AND {direction} > 0 "
                "AND member_id NOT IN "
                "(SELECT member_id FROM member_preferences WHERE leaderboard_opt_out) "
                f"GROUP BY value, {direction}, member_id % {SCORE_SHARDS}"
            )
    step("kudos_totals")

    await sink.execute(
        "INSERT INTO thanked_pairs (giver_id, recipient_id) "
        "SELECT DISTINCT giver_id, recipient_id FROM kudos ORDER BY giver_id, recipient_id"
    )
    counters = list(tally.counters())
    for i in range(0, len(counters), 100_000):
        await sink.insert(
            "member_counters", ("member_id", "counter", "value"), counters[i : i + 100_000]
        )
    await sink.execute(
        "INSERT INTO member_counters (member_id, counter, value) "
        "SELECT giver_id, 'people_thanked', COUNT(*) FROM thanked_pairs GROUP BY giver_id"
    )
    step("counters")
    out.counts["badge_awards"] = await seed_badges(sink, plan, world)
    step("badges")
    await sink.end_bulk()
    step("indexes+analyze")
    after = await sink.schema()
    if before != after:
        missing = [r for r in before if r not in after]
        extra = [r for r in after if r not in before]
        raise RuntimeError(f"schema changed while seeding: missing {missing}, extra {extra}")
    out.seconds = time.perf_counter() - began
    out.counts["kudos"] = plan.kudos
    out.counts["kudos_values"] = n_values
    for table in ("kudos_totals", "thanked_pairs", "member_counters"):
        out.counts[table] = int((await sink.fetch(f"SELECT COUNT(*) FROM {table}"))[0][0])
    return out


# ----- checking the aggregates against the real listener ------------------------------------


async def replay(url: str, plan: Plan, tmp: Path) -> None:
    """Feeds every kudos (then every take-back) of a small world through recognition, as the bot
    does (a KudosChanged follow-up in a unit of work), into an empty database holding only the
    people."""
    from bot.bootstrap import bootstrap
    from bot.clock import ManualClock
    from bot.ids import Platform, WorkspaceRef
    from bot.kudos.events import KudosChanged
    from bot.settings import Settings
    from tests.memory_port import MemoryPort

    settings = Settings(DATA_DIR=tmp, DEFAULT_TIMEZONE=DEFAULT_TZ, _env_file=None)
    db = Database(url)
    try:
        core = bootstrap(
            settings, db, {Platform.SLACK: MemoryPort(platform=Platform.SLACK)}, ManualClock(NOW)
        )
        ws = WorkspaceRef(Platform.SLACK, WS_EXTERNAL)
        async with db.transaction() as session:
            members = list(await session.scalars(select(Member)))
        people = {m.id: core.services.directory.from_member(ws, m) for m in members}
        taken_back: list[Given] = []

        def change(work: Any, k: Given, delta: int) -> None:
            work.emit(
                KudosChanged(
                    workspace=ws,
                    workspace_id=WS_ID,
                    kudos_id=k.id,
                    giver=people[k.giver],
                    recipient=people[k.recipient],
                    values=k.values,
                    given_at=from_us(k.at),
                    delta=delta,
                    event_id=f"ev{k.id}:{delta}",
                ),
            )

        async def hide(members: Sequence[int], hidden: bool) -> None:
            async with db.transaction() as session:
                for m in members:
                    await rec_store.update_preferences(session, m, NOW, leaderboard_opt_out=hidden)

        # The same people end up hidden as in the bulk load, by way of changes of mind.
        world = World(plan)
        hidden = sorted(world.opted_out)
        others = sorted(set(people) - world.opted_out)[:20]
        await hide(hidden[::2], True)
        days = list(kudos_by_day(plan, world))
        for i, (_day, given) in enumerate(days):
            if i == len(days) // 2:
                await hide(hidden[1::2] + others, True)
                await hide(hidden[::4] + others, False)
                await hide(hidden[::4], True)

            async def give(work: Any, given: list[Given] = given) -> None:
                for k in given:
                    change(work, k, +1)

            await core.services.uow.run(ws, give)
            taken_back += [k for k in given if k.revoked is not None]

        async def take_back(work: Any) -> None:
            for k in taken_back:
                change(work, k, -1)

        await core.services.uow.run(ws, take_back)
    finally:
        await db.dispose()


async def aggregates(url: str) -> dict[str, list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return {
                "kudos_totals": [
                    tuple(r)
                    for r in await session.execute(
                        select(
                            KudosTotal.workspace_id,
                            KudosTotal.period,
                            KudosTotal.period_start,
                            KudosTotal.value,
                            KudosTotal.member_id,
                            KudosTotal.received,
                            KudosTotal.given,
                        ).order_by(
                            KudosTotal.period,
                            KudosTotal.period_start,
                            KudosTotal.value,
                            KudosTotal.member_id,
                        )
                    )
                ],
                "member_counters": [
                    tuple(r)
                    for r in await session.execute(
                        select(
                            MemberCounter.member_id, MemberCounter.counter, MemberCounter.value
                        ).order_by(MemberCounter.member_id, MemberCounter.counter)
                    )
                ],
                "thanked_pairs": [
                    tuple(r)
                    for r in await session.execute(
                        select(ThankedPair.giver_id, ThankedPair.recipient_id).order_by(
                            ThankedPair.giver_id, ThankedPair.recipient_id
                        )
                    )
                ],
                # The listener leaves scores nobody has any more at zero.
                "kudos_score_counts": [
                    tuple(r)
                    for r in await session.execute(
                        select(
                            KudosScoreCount.period,
                            KudosScoreCount.period_start,
                            KudosScoreCount.value,
                            KudosScoreCount.direction,
                            KudosScoreCount.score,
                            KudosScoreCount.shard,
                            KudosScoreCount.people,
                        )
                        .where(KudosScoreCount.people != 0)
                        .order_by(
                            KudosScoreCount.period,
                            KudosScoreCount.period_start,
                            KudosScoreCount.value,
                            KudosScoreCount.direction,
                            KudosScoreCount.score,
                            KudosScoreCount.shard,
                        )
                    )
                ],
            }
    finally:
        await db.dispose()


async def verify(backend: str, plan: Plan) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bulk = await Target.create(backend, Path(tmp) / "bulk")
        slow = await Target.create(backend, Path(tmp) / "slow")
        try:
            sink = await bulk.sink()
            try:
                await seed(sink, plan)
            finally:
                await sink.close()
            sink = await slow.sink()
            try:
                await seed_people(sink, plan, World(plan), everything=False)
            finally:
                await sink.close()
            began = time.perf_counter()
            await replay(slow.url, plan, Path(tmp))
            took = time.perf_counter() - began
            fast, real = await aggregates(bulk.url), await aggregates(slow.url)
            for table, rows in real.items():
                same = fast[table] == rows
                print(
                    f"verify {backend:10s} {table:16s} {len(rows):7d} rows from the listener "
                    f"({took:.0f} s): {'identical' if same else 'DIFFERENT'}"
                )
                if not same:
                    a, b = set(fast[table]), set(rows)
                    print(f"  only bulk: {sorted(a - b)[:5]}\n  only listener: {sorted(b - a)[:5]}")
                    raise SystemExit(1)
            for label, target in (("bulk", bulk), ("listener", slow)):
                checked = await check_standings(target.url)
                print(
                    f"verify {backend:10s} standing_of      {checked:7d} ranks ({label}): "
                    "as counted one by one"
                )
        finally:
            await bulk.drop()
            await slow.drop()


async def check_standings(url: str) -> int:
    """store.recognition.standing_of against ranks counted person by person (1 + the visible
    people with more), on boards of every kind, for everyone on them and for teams."""
    db = Database(url)
    rng = random.Random(5)
    checked = 0
    try:
        async with db.transaction() as session:
            hidden = set(
                await session.scalars(
                    select(MemberPreference.member_id).where(
                        MemberPreference.leaderboard_opt_out.is_(True)
                    )
                )
            )
            teams = {m.id: m.team for m in await session.scalars(select(Member))}
            starts = list(
                await session.execute(select(KudosTotal.period, KudosTotal.period_start).distinct())
            )
        for period, start in rng.sample(starts, min(12, len(starts))):
            for column in ("received", "given"):
                for value in ("", *VALUES[:3]):
                    async with db.transaction() as session:
                        rows = list(
                            await session.execute(
                                select(KudosTotal.member_id, getattr(KudosTotal, column)).where(
                                    KudosTotal.workspace_id == WS_ID,
                                    KudosTotal.period == period,
                                    KudosTotal.period_start == start,
                                    KudosTotal.value == value,
                                )
                            )
                        )
                        for member, n in rows:
                            team = teams[member] if rng.random() < 0.1 else None
                            visible = [
                                c
                                for m, c in rows
                                if m not in hidden and (team is None or teams[m] == team)
                            ]
                            expected = (n, 1 + sum(c > n for c in visible)) if n else None
                            got = await rec_store.standing_of(
                                session,
                                workspace_id=WS_ID,
                                member_id=member,
                                period=period,
                                start=start,
                                value=value,
                                column=column,
                                team=team,
                            )
                            if got != expected:
                                raise SystemExit(
                                    f"standing_of {member} on {period} {start} #{value} "
                                    f"{column} team {team}: {got}, expected {expected}"
                                )
                            checked += 1
    finally:
        await db.dispose()
    return checked


# ----- databases -----------------------------------------------------------------------------


@dataclass
class Target:
    backend: str
    url: str
    pg_name: str | None = None
    path: Path | None = None
    keep: bool = False

    @classmethod
    async def create(cls, backend: str, folder: Path) -> Target:
        if backend == "sqlite":
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            url = await sqlite_database(folder)
            return cls(backend, url, path=folder / "allybot.db")
        url, name = await postgres_database()
        return cls(backend, url, pg_name=name)

    @classmethod
    def existing(cls, backend: str, where: str) -> Target:
        if backend == "sqlite":
            return cls(backend, f"sqlite+aiosqlite:///{where}", path=Path(where), keep=True)
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return cls(backend, f"{base}/{where}", pg_name=where, keep=True)

    async def sink(self, *, analyze: bool = True) -> Sink:
        if self.path is not None:
            return SqliteSink(str(self.path), analyze=analyze)
        assert self.pg_name is not None
        return await PostgresSink.connect(f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{self.pg_name}")

    async def size(self) -> tuple[int, list[tuple[str, int]]]:
        if self.path is not None:
            total = sum(
                p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file()
            )
            conn = sqlite3.connect(str(self.path))
            try:
                tables = conn.execute(
                    "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s "
                    "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name "
                    "ORDER BY 2 DESC LIMIT 6"
                ).fetchall()
            except sqlite3.Error:
                tables = []
            finally:
                conn.close()
            return total, [(str(t), int(n)) for t, n in tables]
        sink = await self.sink()
        try:
            total = (await sink.fetch("SELECT pg_database_size(current_database())"))[0][0]
            tables = await sink.fetch(
                "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 6"
            )
        finally:
            await sink.close()
        return int(total), [(str(t), int(n)) for t, n in tables]

    async def drop(self) -> None:
        if self.keep:
            return
        if self.pg_name is not None:
            await drop_postgres_database(self.pg_name)
        elif self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)


# ----- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    column: str
    period: str
    value: str


@dataclass
class Timings:
    runs: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, ms: float) -> None:
        self.runs.setdefault(name, []).append(ms)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Bench:
    def __init__(self, db: Database, runs: int, warmup: int) -> None:
        self.db = db
        self.runs = runs
        self.warmup = warmup
        self.rng = random.Random(42)
        self.ws_tz = ZoneInfo(WS_TZ)

    async def _scalar(self, sql: str) -> Any:
        async with self.db.transaction() as session:
            return (await session.execute(text(sql))).scalar()

    async def _column(self, sql: str) -> list[Any]:
        async with self.db.transaction() as session:
            return list((await session.execute(text(sql))).scalars())

    # -- the operations, each one transaction as the bot opens it --

    async def _timezone(self, session: Any) -> ZoneInfo:
        settings = await ws_store.get_settings(session, WS_ID)
        return ZoneInfo(settings.timezone if settings and settings.timezone else DEFAULT_TZ)

    async def leaderboard(self, board: Board, viewer: int) -> None:
        """Leaderboards.board: time zone, top 10, the viewer's standing, their preferences."""
        async with self.db.transaction() as session:
            start = period_start(board.period, NOW, await self._timezone(session))
            common: dict[str, Any] = {
                "workspace_id": WS_ID,
                "period": board.period,
                "start": start,
                "value": board.value,
                "column": board.column,
                "team": None,
            }
            top = await rec_store.leaderboard(session, **common)
            await rec_store.standing_of(session, member_id=viewer, **common)
            await rec_store.preferences(session, viewer)
        assert top or board.value, board

    async def profile(self, member: int) -> None:
        """Profiles.profile: every store call it makes, in its one transaction."""
        async with self.db.transaction() as session:
            tz = await self._timezone(session)
            await rec_store.member_totals(session, WS_ID, member, "all", EPOCH)
            await rec_store.member_totals(
                session, WS_ID, member, "month", period_start("month", NOW, tz)
            )
            await badge_store.held_by(session, member)
            await rec_store.top_values(session, WS_ID, member)
            await rec_store.recent_thanks(session, member)
            await rec_store.reward_preferences(session, member)
            await ws_store.get_member_by_id(session, member)

    async def stats(self, member: int, viewer_tz: ZoneInfo) -> kudos_store.KudosStats:
        """KudosService.stats: this week and month in the viewer's time zone, and all time."""
        today = day_start(NOW, viewer_tz)
        week_start = today - timedelta(days=today.weekday())
        async with self.db.transaction() as session:
            return await kudos_store.stats(session, member, week_start, today.replace(day=1))

    # -- cases --

    async def board_viewers(self, board: Board) -> dict[str, int]:
        """Who looks: the top, the middle and the bottom of the board, and anyone."""
        start = period_start(board.period, NOW, self.ws_tz).isoformat()
        where = (
            f"workspace_id = {WS_ID} AND period = '{board.period}' AND period_start = '{start}' "
            f"AND value = '{board.value}' AND {board.column} > 0"
        )
        n = int(await self._scalar(f"SELECT COUNT(*) FROM kudos_totals WHERE {where}") or 0)
        out = {"anyone": self.rng.randrange(1, self.members + 1)}
        if n:
            order = f"ORDER BY {board.column} DESC, member_id"
            for kind, offset in (("top", 0), ("middle", n // 2), ("bottom", n - 1)):
                out[kind] = int(
                    await self._scalar(
                        f"SELECT member_id FROM kudos_totals WHERE {where} {order} "
                        f"LIMIT 1 OFFSET {offset}"
                    )
                )
        return out

    async def run(self) -> Timings:
        self.members = int(await self._scalar("SELECT MAX(id) FROM members"))
        timings = Timings()
        rng = self.rng
        boards = [
            Board(c, p, v) for c in ("received", "given") for p in PERIODS for v in ("", *VALUES)
        ]
        viewers: dict[Board, dict[str, int]] = {}
        cases: list[tuple[Board, str, int]] = []
        for _ in range(self.runs + self.warmup):
            every_value = rng.random() < 0.5
            board = rng.choice([b for b in boards if (b.value == "") == every_value])
            if board not in viewers:
                viewers[board] = await self.board_viewers(board)
            kind = rng.choice(("top", "middle", "bottom", "bottom", "anyone"))
            kind = kind if kind in viewers[board] else "anyone"
            cases.append((board, kind, viewers[board][kind]))
        heavy = [
            int(m)
            for m in await self._column(
                "SELECT member_id FROM member_counters WHERE counter = 'kudos_received' "
                "ORDER BY value DESC LIMIT 10"
            )
        ]
        zones = [ZoneInfo(z or DEFAULT_TZ) for z, _ in ZONES]

        async def timed(name: str, call: Callable[[], Awaitable[Any]], i: int) -> None:
            began = time.perf_counter()
            await call()
            if i >= self.warmup:
                timings.add(name, (time.perf_counter() - began) * 1000)

        for i, (board, kind, viewer) in enumerate(cases):
            await timed("leaderboard", partial(self.leaderboard, board, viewer), i)
            if i >= self.warmup:
                timings.add(f"  leaderboard {board.period}", timings.runs["leaderboard"][-1])
                timings.add(f"  leaderboard {kind}", timings.runs["leaderboard"][-1])
        for i in range(self.runs + self.warmup):
            busy = rng.random() < 0.25
            member = rng.choice(heavy) if busy else rng.randrange(1, self.members + 1)
            await timed("profile", partial(self.profile, member), i)
            if i >= self.warmup:
                name = f"  profile {'busiest' if busy else 'anyone'}"
                timings.add(name, timings.runs["profile"][-1])
        for i in range(self.runs + self.warmup):
            member, zone = rng.choice(heavy), rng.choice(zones)
            await timed("stats heavy", partial(self.stats, member, zone), i)
        for i in range(self.runs + self.warmup):
            member, zone = rng.randrange(1, self.members + 1), rng.choice(zones)
            await timed("stats typical", partial(self.stats, member, zone), i)
        return timings


# ----- main ------------------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


async def bench_backend(backend: str, plan: Plan, args: argparse.Namespace, tmp: Path) -> Timings:
    if backend == "sqlite" and args.reuse_sqlite:
        target = Target.existing(backend, args.reuse_sqlite)
    elif backend == "postgresql" and args.reuse_postgresql:
        target = Target.existing(backend, args.reuse_postgresql)
    else:
        target = await Target.create(backend, tmp / backend)
        target.keep = args.keep
    reusing = bool(args.reuse_sqlite if backend == "sqlite" else args.reuse_postgresql)
    failed = True
    try:
        if not reusing:
            sink = await target.sink(analyze=not args.sqlite_no_analyze)
            try:
                seeded = await seed(sink, plan)
            finally:
                await sink.close()
            steps = ", ".join(f"{k} {v:.0f} s" for k, v in seeded.steps.items())
            counts = ", ".join(f"{k} {v:,}" for k, v in seeded.counts.items())
            print(f"{backend}: seeded in {seeded.seconds:.0f} s ({steps})\n  rows: {counts}")
        total, tables = await target.size()
        print(f"  size {_mb(total)}: " + ", ".join(f"{t} {_mb(n)}" for t, n in tables))
        if target.keep:
            print(f"  kept: {target.path or target.pg_name}")
        db = Database(target.url)
        try:
            timings = await Bench(db, args.runs, args.warmup).run()
        finally:
            await db.dispose()
        failed = False
        return timings
    finally:
        if failed and not reusing:
            target.keep = False  # --keep keeps a good database, never a half-seeded one
        await target.drop()


def report(results: dict[str, Timings]) -> None:
    print(f"\n{'query':28s}" + "".join(f"{b:>30s}" for b in results))
    print(f"{'':28s}" + "".join(f"{'p50 / p95 / max ms':>30s}" for _ in results))
    names = []
    for query in ("leaderboard", "profile", "stats heavy", "stats typical"):
        names.append(query)
        names += sorted({n for t in results.values() for n in t.runs if n.startswith(f"  {query}")})
    for name in names:
        cells = []
        for timings in results.values():
            runs = timings.runs.get(name, [])
            if not runs:
                cells.append(f"{'-':>30s}")
                continue
            p95 = pct(runs, 95)
            flag = "" if name.startswith(" ") else (" ok" if p95 <= TARGET_MS else " MISS")
            cells.append(f"{statistics.median(runs):8.1f} /{p95:6.1f} /{max(runs):6.1f}{flag:>5s}")
        print(f"{name:28s}" + "".join(cells))
    print(f"(target: p95 <= {TARGET_MS:.0f} ms; indented rows break the figure above down)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--kudos", type=int, default=5_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--verify",
        action="store_true",
        help="first check the bulk aggregates against the real listener on a small world",
    )
    parser.add_argument(
        "--sqlite-no-analyze",
        action="store_true",
        help="leave SQLite without ANALYZE statistics, as the bot itself never gathers them",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases")
    parser.add_argument("--reuse-sqlite", metavar="PATH", help="measure a kept SQLite file")
    parser.add_argument("--reuse-postgresql", metavar="NAME", help="measure a kept database")
    args = parser.parse_args()
    plan = Plan(members=args.members, kudos=args.kudos)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Timings] = {}
    base = Path(tempfile.mkdtemp(prefix="allybot-bench-", dir=os.environ.get("BENCH_DIR")))
    try:
        for backend in backends:
            try:
                if args.verify:
                    await verify(backend, Plan(members=300, kudos=6_000))
                results[backend] = await bench_backend(backend, plan, args, base)
            except BaseException as exc:
                # tests.databases skips (a pytest outcome) when PostgreSQL is unreachable.
                if type(exc).__name__ != "Skipped":
                    raise
                print(f"{backend}: skipped ({exc})")
        if results:
            report(results)
    finally:
        with contextlib.suppress(Exception):
            await drop_template()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
