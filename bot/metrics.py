"""Prometheus metrics: counters the code moves as things happen, and gauges read from the
database when /metrics is scraped (adapters/observability.py serves them).

`allybot serve` runs the door in one process and applies events and jobs in worker processes.
Their counters reach the door's /metrics through prometheus_client's multiprocess mode: serve
points PROMETHEUS_MULTIPROC_DIR at a fresh directory before anything imports prometheus_client
(adapters/metrics_processes.py), its workers inherit it, and each process writes its values
there. Queue depths and ages are not counters of any one process: they are read from the
database at scrape time, so they are right whichever process, or replica, holds the work.

Labels stay bounded: platforms, core event types, job kinds and fixed outcome names, never a
person, an event, a workspace or a job id.

Counters moved inside a unit of work (`question`, `nudge`) count on commit only, so a rolled
back or retried transaction counts nothing.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from bot.clock import Clock
from store import Database
from store import inbox as inbox_store
from store import metrics as metrics_store

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# prometheus_client chose its value store when it was imported, from the same variable.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

REGISTRY = CollectorRegistry()

EVENTS = Counter(
    "allybot_events",
    "Requests from the platforms at the door, by the core event they carried and what became "
    "of them: accepted (into the inbox), duplicate, answered (synchronously), ignored, "
    "rejected (4xx), unauthorized (401), unavailable (503), error (5xx), cancelled.",
    ["platform", "kind", "outcome"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "allybot_ack_seconds",
    "Time from a platform request reaching the door to its response (Slack gives up at 3 s).",
    ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=REGISTRY,
)
INBOX_EVENTS = Counter(
    "allybot_inbox_events",
    "Inbox events the workers took: applied, retry (failed, tried again later), gave_up, "
    "lease_lost (another worker took it over).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOBS = Counter(
    "allybot_jobs",
    "Job runs by kind and outcome: done, retry, deferred, rate_limited, gave_up.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "allybot_deliveries",
    "Message deliveries (the `deliver` jobs) by platform and outcome: done (sent), retry, "
    "deferred, rate_limited (a 429), gave_up.",
    ["platform", "outcome"],
    registry=REGISTRY,
)
TRANSACTION_RETRIES = Counter(
    "allybot_transaction_retries",
    "Transactions run again: a deadlock or serialization failure (conflict), or a listener "
    "that failed, so the unit of work runs again with each listener isolated.",
    ["where", "reason"],
    registry=REGISTRY,
)
QUESTIONS = Counter(
    "allybot_questions",
    "Help-channel routing decisions: created, routed, waiting (nobody on duty), escalated, "
    "unrouted (the community team was alerted), claimed, passed, resolved, unanswered (still "
    "open a working day on).",
    ["outcome"],
    registry=REGISTRY,
)
NUDGES = Counter(
    "allybot_nudges",
    "Nudges: queued, sent (with its kind), deferred and suppressed (with the guardrail's "
    "reason), clicked (a shared link followed), answered (with the answer).",
    ["outcome", "reason"],
    registry=REGISTRY,
)

DELIVER = "deliver"  # bot.delivery.KIND (not imported: delivery imports the scheduler, us)
OTHER = "other"  # a request that carried no core event (rejected, or nothing the core reads)


# ----- the door -------------------------------------------------------------------------------


@dataclass
class DoorVisit:
    """One platform request at the door: filled in by the adapter and the core as it goes."""

    platform: str
    kind: str = OTHER
    outcome: str | None = None


_visit: contextvars.ContextVar[DoorVisit | None] = contextvars.ContextVar(
    "allybot_door_visit", default=None
)


@contextmanager
def door(platform: str) -> Iterator[DoorVisit]:
    visit = DoorVisit(platform)
    token = _visit.set(visit)
    try:
        yield visit
    finally:
        _visit.reset(token)


def saw(event: object) -> None:
    """The core took an event from the request being answered (Allybot.handle). The first one
    names the request: a Teams message typed as a command stays a MessagePosted."""
    if (visit := _visit.get()) is not None and visit.kind == OTHER:
        visit.kind = type(event).__name__


def door_outcome(outcome: str) -> None:
    """What became of the request's event: accepted, duplicate, ignored."""
    if (visit := _visit.get()) is not None:
        visit.outcome = outcome


def answered(visit: DoorVisit, status: int | None, seconds: float) -> None:
    """Counts a finished request; `status` None: it was cancelled (the client went away)."""
    EVENTS.labels(visit.platform, visit.kind, _outcome(visit, status)).inc()
    ACK_SECONDS.labels(visit.platform).observe(seconds)


def _outcome(visit: DoorVisit, status: int | None) -> str:
    if status is None:
        return "cancelled"
    if status == 401:
        return "unauthorized"
    if status == 503:
        return "unavailable"
    if status >= 500:
        return "error"
    if status >= 400:
        return "rejected"
    if visit.outcome is not None:
        return visit.outcome
    return "ignored" if visit.kind == OTHER else "answered"


# ----- workers, jobs, transactions ------------------------------------------------------------


def inbox_event(kind: str, outcome: str) -> None:
    INBOX_EVENTS.labels(kind, outcome).inc()


def job_ran(kind: str, platform: str | None, outcome: str) -> None:
    JOBS.labels(kind, outcome).inc()
    if kind == DELIVER:
        DELIVERIES.labels(platform or "any", outcome).inc()


def transaction_retry(where: str, reason: str) -> None:
    TRANSACTION_RETRIES.labels(where, reason).inc()


# ----- capabilities' decisions ----------------------------------------------------------------


class _UnitOfWork(Protocol):
    def on_commit(self, callback: Callable[[], None]) -> None: ...


def question(work: _UnitOfWork, outcome: str) -> None:
    """A routing decision, counted when its unit of work commits."""
    work.on_commit(QUESTIONS.labels(outcome).inc)


def nudge(work: _UnitOfWork | None, outcome: str, reason: str | None = None, n: int = 1) -> None:
    """A nudge decision, counted when its unit of work commits (None: already committed)."""
    child = NUDGES.labels(outcome, reason or "")
    if work is None:
        child.inc(n)
    elif n:
        work.on_commit(lambda: child.inc(n))


# ----- the scrape -----------------------------------------------------------------------------


class _ThisProcess(Collector):
    """This process's metrics, when there are no other processes to merge."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@dataclass(frozen=True, eq=False)  # hashed by identity: a registry keys collectors
class _Database(Collector):
    """The gauges read from the database for one scrape."""

    up: bool
    inbox: inbox_store.Depth | None
    inbox_age: float
    jobs: Sequence[metrics_store.JobQueue]
    lag: dict[str, float]

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "allybot_database_up",
            "Whether this scrape could read the database (the gauges below need it).",
            value=1 if self.up else 0,
        )
        if not self.up or self.inbox is None:
            return
        yield GaugeMetricFamily(
            "allybot_inbox_waiting",
            "Events acknowledged at the door and not applied yet.",
            value=self.inbox.waiting,
        )
        yield GaugeMetricFamily(
            "allybot_inbox_failed", "Events set aside after their last attempt.", self.inbox.failed
        )
        yield GaugeMetricFamily(
            "allybot_inbox_oldest_age_seconds",
            "How long the oldest waiting event has waited (0: none waits).",
            value=self.inbox_age,
        )
        families = {
            "pending": "Pending jobs, due or not (an escalation due tomorrow counts).",
            "due": "Pending jobs that are due: waiting for a worker, or for their lane's pace.",
            "running": "Jobs a worker is running.",
            "failed": "Jobs given up (kept for the record).",
        }
        for name, documentation in families.items():
            family = GaugeMetricFamily(f"allybot_jobs_{name}", documentation, labels=["kind"])
            for queue in self.jobs:
                family.add_metric([queue.kind], getattr(queue, name))
            yield family
        lag = GaugeMetricFamily(
            "allybot_job_lag_seconds",
            "How long the oldest due job of each kind has been due (0: none is).",
            labels=["kind"],
        )
        for kind, seconds in sorted(self.lag.items()):
            lag.add_metric([kind], seconds)
        yield lag


async def _read_database(db: Database, clock: Clock, kinds: Iterable[str]) -> _Database:
    now = clock.now()
    try:
        async with db.transaction() as session:
            depth = await inbox_store.depth(session)
            found = await metrics_store.job_queues(session, now)
    except Exception as exc:  # the counters are still worth serving
        log.warning("metrics: could not read the queues from the database: %s", exc)
        return _Database(False, None, 0.0, (), {})
    by_kind = {queue.kind: queue for queue in found}
    for kind in kinds:  # every kind this build runs, so a quiet one reads 0, not absent
        by_kind.setdefault(kind, metrics_store.JobQueue(kind, 0, 0, 0, 0, None))
    jobs = sorted(by_kind.values(), key=lambda q: q.kind)
    lag = {
        q.kind: max(0.0, (now - q.oldest_due).total_seconds()) if q.oldest_due else 0.0
        for q in jobs
    }
    age = 0.0 if depth.oldest is None else max(0.0, (now - depth.oldest).total_seconds())
    return _Database(True, depth, age, jobs, lag)


async def exposition(db: Database, clock: Clock, kinds: Iterable[str]) -> bytes:
    """The text a Prometheus scrape gets: every process's counters, and the database's gauges."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIR:
        MultiProcessCollector(registry, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(await _read_database(db, clock, kinds))
    return generate_latest(registry)
