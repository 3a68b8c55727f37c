"""Routing at scale: the routing decision and `whoknows` in one large workspace.

Run by hand (not in CI):
    .venv/bin/python -m benchmarks.routing [--allies 10000] [--topics 500]
        [--questions 20000] [--backend sqlite|postgresql|both] [--runs 300]

Seeds one workspace in bulk (executemany in a few transactions): `--allies` people spread over
twelve time zones from Pacific/Kiritimati to Pacific/Pago_Pago, a third of them with their own
hours, days or cap, 2% paused; each an expert on one to three of `--topics` topics (each topic
with a name and three keywords); `--questions` past resolved questions over the last 90 days,
each credited to an expert of its topic, with the fit (resolved per ally and topic) and the
learned word evidence the bot keeps; a week of asks and claims for fairness, and a few hundred
open claims for the caps. Then it times, after a warm-up, through the real code on a real
`Database` (one unit of work each, as the bot runs them):

  decision   classify a new question (keywords + learned words), read the topic's candidates
             with availability, fit, open claims and 7-day load, rank and choose: exactly what
             the `routing.route` job decides (presence is not read: no platform here)
  whoknows   what `whoknows TEXT` reads and ranks

and prints p50/p95/max per backend (target: decision p95 <= 10 ms) and the seeding time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.ids import Platform, WorkspaceRef
from bot.kudos.service import KudosService
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.routing import classify
from bot.routing.context import Context
from bot.routing.escalation import Engine
from bot.routing.whoknows import WhoKnows
from bot.settings import Settings
from bot.work import Work
from store import Database
from store import workspaces as ws_store
from store.migrate import upgrade
from store.models import (
    Member,
    RoutingAlly,
    RoutingAsk,
    RoutingEvidence,
    RoutingExpert,
    RoutingFit,
    RoutingQuestion,
    RoutingTopic,
    RoutingWord,
)
from tests.databases import drop_postgres_database, drop_template, postgres_database

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)  # a Wednesday: most zones are on duty or near
ZONES = (
    "Pacific/Kiritimati",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Pacific/Pago_Pago",
)
FILLER = tuple(
    [
        "error",
        "timeout",
        "login",
        "access",
        "install",
        "update",
        "crash",
        "slow",
        "broken",
        "setup",
        "config",
        "account",
        "password",
        "network",
        "printer",
        "screen",
        "token",
        "sync",
        "mobile",
        "export",
        "import",
    ]
)
CHUNK = 2000


def topic_words(i: int) -> tuple[str, str, str, str]:
    return (f"topic{i}", f"kw{i}a", f"kw{i}b", f"kw{i}c")


async def bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with db.transaction() as session:
            await session.execute(insert(model), rows[start : start + CHUNK])


async def seed(db: Database, allies: int, topics: int, questions: int, rng: random.Random) -> int:
    async with db.transaction() as session:
        ws_id = (await ws_store.ensure_workspace(session, "console", "bench", NOW)).id
    member_rows, ally_rows = [], []
    for i in range(allies):
        mid = 1000 + i
        member_rows.append(
            {
                "id": mid,
                "workspace_id": ws_id,
                "external_id": f"u{i}",
                "display_name": f"Ally {i}",
                "tz": ZONES[i % len(ZONES)],
                "is_bot": False,
                "created_at": NOW,
                "profile_refreshed_at": NOW,
            }
        )
        if i % 3 == 0:
            ally_rows.append(
                {
                    "member_id": mid,
                    "workspace_id": ws_id,
                    "hours": rng.choice(("08:00-16:00", "10:00-18:00", "07:30-15:30")),
                    "days": rng.choice(("0,1,2,3,4", "0,1,2,3", "1,2,3,4,5")),
                    "max_open": rng.choice((2, 3, 5)),
                    "paused_until": NOW + timedelta(days=3) if i % 50 == 0 else None,
                    "updated_at": NOW,
                }
            )
    asker_id = 1000 + allies  # the people who asked
    member_rows.append(
        {
            "id": asker_id,
            "workspace_id": ws_id,
            "external_id": "asker",
            "display_name": "Asker",
            "tz": "UTC",
            "is_bot": False,
            "created_at": NOW,
            "profile_refreshed_at": NOW,
        }
    )
    await bulk(db, Member, member_rows)
    await bulk(db, RoutingAlly, ally_rows)
    topic_rows = []
    for t in range(topics):
        name, *kws = topic_words(t)
        topic_rows.append(
            {
                "id": 1 + t,
                "workspace_id": ws_id,
                "name": name,
                "description": None,
                "keywords": ", ".join(kws),
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    await bulk(db, RoutingTopic, topic_rows)
    experts: dict[int, list[int]] = {}
    expert_rows = []
    for i in range(allies):
        for t in rng.sample(range(topics), rng.choice((1, 2, 3))):
            experts.setdefault(t, []).append(1000 + i)
            expert_rows.append(
                {
                    "topic_id": 1 + t,
                    "member_id": 1000 + i,
                    "workspace_id": ws_id,
                    "status": "active",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
    await bulk(db, RoutingExpert, expert_rows)
    fit: dict[tuple[int, int], int] = {}
    evidence: dict[tuple[str, int, int], int] = {}
    question_rows, ask_rows = [], []
    for n in range(questions):
        t = rng.randrange(topics)
        helper = rng.choice(experts.get(t) or [1000])
        words = [rng.choice(topic_words(t)[1:]), *rng.sample(FILLER, 3)]
        body = " ".join(words) + " please help"
        created = NOW - timedelta(minutes=rng.randrange(90 * 24 * 60))
        question_rows.append(
            {
                "id": 1 + n,
                "workspace_id": ws_id,
                "number": 1 + n,
                "asker_id": asker_id,
                "source_key": f"cmd:{n}",
                "text": body,
                "topic_id": 1 + t,
                "status": "resolved",
                "level": 0,
                "waits": 0,
                "claimed_by": helper,
                "helper_id": helper,
                "created_at": created,
                "last_message_at": created,
                "resolved_at": created + timedelta(hours=1),
                "updated_at": created,
            }
        )
        fit[(helper, 1 + t)] = fit.get((helper, 1 + t), 0) + 1
        for w in classify.words(body):
            key = (w, 1 + t, helper)
            evidence[key] = evidence.get(key, 0) + 1
        if created > NOW - timedelta(days=7):
            ask_rows.append(
                {
                    "question_id": 1 + n,
                    "member_id": helper,
                    "workspace_id": ws_id,
                    "level": 0,
                    "outcome": "claimed",
                    "asked_at": created,
                }
            )
    # A few hundred claimed, unresolved questions: the caps have something to count.
    for n in range(questions, questions + 400):
        t = rng.randrange(topics)
        helper = rng.choice(experts.get(t) or [1000])
        question_rows.append(
            {
                **question_rows[0],
                "id": 1 + n,
                "number": 1 + n,
                "source_key": f"cmd:{n}",
                "topic_id": 1 + t,
                "status": "claimed",
                "claimed_by": helper,
                "helper_id": None,
                "resolved_at": None,
            }
        )
    await bulk(db, RoutingQuestion, question_rows)
    await bulk(db, RoutingAsk, ask_rows)
    await bulk(
        db,
        RoutingFit,
        [
            {"member_id": m, "topic_id": t, "workspace_id": ws_id, "resolved": n, "passes": 0}
            for (m, t), n in fit.items()
        ],
    )
    await bulk(
        db,
        RoutingEvidence,
        [
            {"workspace_id": ws_id, "word": w, "topic_id": t, "member_id": m, "count": n}
            for (w, t, m), n in evidence.items()
        ],
    )
    words: dict[tuple[str, int], int] = {}
    for (w, t, _), n in evidence.items():
        words[(w, t)] = words.get((w, t), 0) + n
    await bulk(
        db,
        RoutingWord,
        [
            {"workspace_id": ws_id, "word": w, "topic_id": t, "count": n}
            for (w, t), n in words.items()
        ],
    )
    async with db.transaction() as session:
        await session.execute(text("ANALYZE"))
    return ws_id


def stats(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"  {label:<13} p50 {statistics.median(ordered):6.2f} ms   p95 {p95:6.2f} ms   "
        f"max {ordered[-1]:6.2f} ms   (n={len(ordered)})"
    )


async def run_backend(backend: str, args: argparse.Namespace) -> None:
    rng = random.Random(9)
    tmp = Path(tempfile.mkdtemp())
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'routing.db'}"
        await upgrade(url)
    else:
        url, pg_name = await postgres_database()
    db = Database(url)
    try:
        started = time.perf_counter()
        await seed(db, args.allies, args.topics, args.questions, rng)
        seeded = time.perf_counter() - started
        settings = Settings(DATA_DIR=tmp, _env_file=None)  # type: ignore[call-arg]
        core = bootstrap(settings, db, {}, ManualClock(NOW))
        services = core.services
        roles = Roles(services)
        ctx = Context(services, roles, Recognition(services), KudosService(services))
        engine = Engine(ctx)
        who = WhoKnows(ctx)
        workspace = WorkspaceRef(Platform.CONSOLE, "bench")

        async def decide(body: str, work: Work) -> int:
            words = classify.words(body)
            topics = await ctx.topics(work)
            from store import routing as store

            learned = await store.evidence_by_topic(work.session, work.ws_id, words)
            match = classify.classify(words, topics, learned)
            q = RoutingQuestion(
                id=-1,
                workspace_id=work.ws_id,
                number=0,
                asker_id=0,
                source_key="bench",
                text=body,
                topic_id=match.topic.id if match.topic else None,
                status="routing",
                level=0,
                waits=0,
                created_at=work.now,
            )
            _, chosen, _ = await engine.decide(work, q, 0, {})
            return len(chosen)

        async def whoknows(body: str, work: Work) -> int:
            found, _ = await who.find(work, body)
            return len(found)

        def question() -> str:
            t = rng.randrange(args.topics)
            if rng.random() < 0.3:  # no keyword: learned words only
                return " ".join(rng.sample(FILLER, 3)) + f" {topic_words(t)[2]}x"
            return f"{topic_words(t)[rng.randrange(1, 4)]} " + " ".join(rng.sample(FILLER, 2))

        # Wall time, and this process's CPU time (SQLite's work included, PostgreSQL's not):
        # on a shared, busy machine the CPU figure is the one that shows the code's cost.
        timings: dict[str, list[float]] = {
            "decision": [],
            "decision cpu": [],
            "whoknows": [],
            "whoknows cpu": [],
        }
        chosen_total = 0
        for i in range(args.runs + 20):
            for label, fn in (("decision", decide), ("whoknows", whoknows)):
                body = question()
                t0, c0 = time.perf_counter(), time.process_time()
                result = await services.uow.run(workspace, lambda w, f=fn, b=body: f(b, w))
                elapsed = (time.perf_counter() - t0) * 1000
                cpu = (time.process_time() - c0) * 1000
                if i >= 20:  # after the warm-up
                    timings[label].append(elapsed)
                    timings[f"{label} cpu"].append(cpu)
                    chosen_total += result if label == "decision" else 0
        load = os.getloadavg()[0]
        print(
            f"{backend} (load average {load:.1f} on {os.cpu_count()} cores): "
            f"{args.allies} allies, {args.topics} topics, {args.questions} resolved questions; "
            f"seeded in {seeded:.1f} s; {chosen_total / args.runs:.2f} asked per decision"
        )
        for label, samples in timings.items():
            print(stats(label, samples))
    finally:
        await db.dispose()
        if pg_name is not None:
            await drop_postgres_database(pg_name)
            await drop_template()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--allies", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        await run_backend(backend, args)


if __name__ == "__main__":
    asyncio.run(main())
