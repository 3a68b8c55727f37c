"""What one reaction kudos costs the inbox worker: CPU, SQL statements and events per second.

Run by hand (not in CI):
    .venv/bin/python -m benchmarks.processing [--events 300] [--rounds 5]
        [--backend sqlite|postgresql|both] [--scenario steady|first|both] [--profile]

Builds the real bot (bootstrap, a memory port, the inbox, the database configured as the bot
configures it) on a fresh database, makes everyone known beforehand (profiles fresh, so no
platform look-up happens) and sets a large daily allowance (so nothing is refused). Then, per
round, it takes `--events` reactions in at the door (`Allybot.handle`, not measured), each on a
new message, and applies them with `Inbox.run_due` as a worker does (measured: the process's
CPU with `time.process_time`, aiosqlite's thread included, and the wall clock over that phase
only; and the SQL statements sent, counted with SQLAlchemy's before_cursor_execute, so an
executemany counts once). It prints, per backend and scenario, the medians over the rounds of
CPU ms per event, events per second (one process, one event loop) and statements per event;
then the CPU and statements of each delivery those events queued, run through the jobs worker
(`Scheduler.run_due`, to the memory port: no HTTP), measured apart.

Scenarios:
  steady  people who thanked each other before (four warm-up rounds, not measured): each event
          is one more kudos on a new message; counters, totals and score counts move, no badge
          is earned. What a community does all day.
  first   every event is someone's first kudos, to someone new: thanked pairs, counters and
          totals rows are created and the first-kudos badge is awarded (one more DM).

`--profile` applies one more round of each under pyinstrument (its overhead is not in the
medians) and prints its call tree (project frames) and the functions with the most time of
their own. SQLAlchemy's asyncio layer runs statements in greenlets, which pyinstrument
attributes to the frame that switched (`[self]` in sqlalchemy/orm/session.py): read the tree
for where the statements come from, and a sampling profiler such as py-spy for the split
between Python and the drivers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.bootstrap import bootstrap
from bot.clock import SystemClock
from bot.core import Allybot
from bot.ids import ConversationKind, ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.settings import Settings
from store import Database
from tests.databases import (
    drop_postgres_database,
    drop_template,
    postgres_database,
    sqlite_database,
)
from tests.helpers import reaction
from tests.memory_port import MemoryPort

WS = WorkspaceRef(Platform.CONSOLE, "bench")
CHANNEL = ConversationRef(WS, "general", ConversationKind.CHANNEL)


@dataclass
class Round:
    events: int
    cpu: float  # seconds of CPU, whole process
    wall: float
    statements: int
    jobs: int = 0  # the deliveries those events queued, run afterwards (measured apart)
    job_cpu: float = 0.0
    job_statements: int = 0

    @property
    def job_cpu_ms(self) -> float:
        return self.job_cpu / self.jobs * 1000 if self.jobs else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.events * 1000

    @property
    def per_second(self) -> float:
        return self.events / self.wall

    @property
    def statements_per_event(self) -> float:
        return self.statements / self.events


class Counter:
    """Counts the SQL statements an engine sends (BEGIN IMMEDIATE included on SQLite)."""

    def __init__(self, db: Database) -> None:
        self.n = 0
        self.on = False
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        if self.on:
            self.n += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        self.n, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


def user(uid: str) -> UserRef:
    return UserRef(WS, uid)


class Bench:
    def __init__(self, core: Allybot, db: Database, port: MemoryPort, events: int) -> None:
        self.core, self.db, self.port, self.events = core, db, port, events
        self.counter = Counter(db)
        self._messages = 0

    async def know(self, uids: list[str]) -> None:
        """Everyone known with a fresh profile before anything is measured."""
        for u in uids:
            self.port.add(u, u.upper())
        for i in range(0, len(uids), 200):
            await self.core.services.directory.people([user(u) for u in uids[i : i + 200]])

    async def take_in(self, pairs: list[tuple[str, str]]) -> None:
        """The reactions arrive (the door, not measured): one per pair, each on a new message."""
        now = SystemClock().now()
        evs = []
        for giver, recipient in pairs:
            self._messages += 1
            msg = MessageRef(CHANNEL, f"m{self._messages}")
            evs.append(reaction(user(giver), msg, user(recipient), now))
        await asyncio.gather(*(self.core.handle(e) for e in evs))

    async def apply(self, pairs: list[tuple[str, str]], profiler: Any = None) -> Round:
        await self.take_in(pairs)
        with self.counter.counting():
            if profiler is not None:
                profiler.start()
            cpu, wall = time.process_time(), time.perf_counter()
            applied = await self.core.inbox.run_due() if self.core.inbox else 0
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler is not None:
                profiler.stop()
        assert applied == len(pairs), (applied, len(pairs))
        statements = self.counter.n
        with self.counter.counting():  # then the DMs they queued, through the jobs worker
            job_cpu = time.process_time()
            jobs = await self.core.scheduler.run_due()
            job_cpu = time.process_time() - job_cpu
        return Round(len(pairs), cpu, wall, statements, jobs, job_cpu, self.counter.n)


def steady_pairs(n: int, shift: int) -> list[tuple[str, str]]:
    """n givers each thanking someone they thanked before (round `shift` of a fixed set)."""
    return [(f"g{i}", f"r{(i + shift) % 4}-{i}") for i in range(n)]


async def scenario(bench: Bench, name: str, rounds: int, profile: bool) -> list[Round]:
    n = bench.events
    if name == "steady":
        await bench.know(
            [f"g{i}" for i in range(n)] + [f"r{k}-{i}" for i in range(n) for k in range(4)]
        )
        for k in range(4):  # everyone has thanked their four people once: badges earned
            await bench.apply(steady_pairs(n, k))
        batches = [steady_pairs(n, r) for r in range(rounds + (1 if profile else 0))]
    else:
        total = rounds + (1 if profile else 0) + 1
        people = [f"{side}{r}-{i}" for r in range(total) for i in range(n) for side in "gr"]
        await bench.know(people)
        batches = [[(f"g{r}-{i}", f"r{r}-{i}") for i in range(n)] for r in range(total)]
        await bench.apply(batches.pop())  # a warm-up: the process's caches, the statement cache
    results = [await bench.apply(batches[r]) for r in range(rounds)]
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="disabled")
        await bench.apply(batches[rounds], profiler)
        session = profiler.last_session
        assert session is not None
        from pyinstrument.renderers import ConsoleRenderer

        print(f"\n--- profile: {name}, {n} events ---")
        tree = ConsoleRenderer(unicode=False, color=False, show_all=False)
        print(_head(_body(tree.render(session)), 60))
        print(f"--- {name}: own time (library frames included), top 30 ---")
        flat = ConsoleRenderer(unicode=False, color=False, show_all=True, flat=True)
        print(_head(_body(flat.render(session)), 30))
    return results


def _head(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[:lines])


def _body(text: str) -> str:
    """pyinstrument's output without its banner."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Profile at")), -1)
    return "\n".join(line for line in lines[start + 1 :] if line.strip())


@contextlib.asynccontextmanager
async def database(backend: str) -> AsyncIterator[tuple[str, Path]]:
    tmp = Path(tempfile.mkdtemp(prefix="allybot-bench-"))
    try:
        if backend == "sqlite":
            yield await sqlite_database(tmp), tmp
            return
        url, name = await postgres_database()
        try:
            yield url, tmp
        finally:
            await drop_postgres_database(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def run(backend: str, name: str, events: int, rounds: int, profile: bool) -> list[Round]:
    async with database(backend) as (url, tmp):
        db = Database(url)
        try:
            port = MemoryPort()
            settings = Settings(DATA_DIR=tmp, KUDOS_DAILY_ALLOWANCE=1000, _env_file=None)
            core = bootstrap(settings, db, {port.platform: port}, SystemClock())
            return await scenario(Bench(core, db, port, events), name, rounds, profile)
        finally:
            await db.dispose()


def report(backend: str, name: str, results: list[Round]) -> None:
    cpu = statistics.median(r.cpu_ms for r in results)
    rate = statistics.median(r.per_second for r in results)
    stmts = statistics.median(r.statements_per_event for r in results)
    spread = ", ".join(f"{r.cpu_ms:.2f}" for r in results)
    jobs = statistics.median(r.jobs / r.events for r in results)
    job_cpu = statistics.median(r.job_cpu_ms for r in results)
    job_stmts = statistics.median(r.job_statements / max(1, r.jobs) for r in results)
    print(
        f"{backend:<10} {name:<6}  CPU {cpu:6.2f} ms/event  {rate:7.0f} events/s  "
        f"{stmts:5.1f} statements/event   (CPU per round: {spread})\n"
        f"{'':<17}  then {jobs:.1f} deliveries/event: CPU {job_cpu:6.2f} ms/delivery, "
        f"{job_stmts:5.1f} statements/delivery (memory port)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="reactions per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--scenario", choices=["steady", "first", "both"], default="both")
    parser.add_argument("--profile", action="store_true", help="print pyinstrument's top frames")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    names = ["steady", "first"] if args.scenario == "both" else [args.scenario]
    out = []
    try:
        for backend in backends:
            for name in names:
                results = asyncio.run(run(backend, name, args.events, args.rounds, args.profile))
                out.append((backend, name, results))
    finally:
        if "postgresql" in backends:
            asyncio.run(drop_template())
    print(f"\n{args.events} reaction kudos per round, {args.rounds} rounds; medians:")
    for backend, name, results in out:
        report(backend, name, results)


if __name__ == "__main__":
    main()
