"""Queries read when /metrics is scraped: the jobs queue by kind (bot/metrics.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.jobs import FAILED, PENDING, RUNNING
from store.models import Job, UTCDateTime


@dataclass(frozen=True, slots=True)
class JobQueue:
    kind: str
    pending: int  # waiting, due or not (an escalation due tomorrow counts)
    due: int  # pending and due now: waiting for a worker, or for its lane's pace
    running: int
    failed: int  # given up, kept for `allybot status` and the admins
    oldest_due: datetime | None  # the due time of the longest-waiting due job


async def job_queues(session: AsyncSession, now: datetime) -> list[JobQueue]:
    """One grouped read; done and cancelled jobs (the bulk of the table) are not touched, the
    status index finds the rest."""
    is_due = Job.due_at <= now
    rows = await session.execute(
        select(
            Job.kind,
            Job.status,
            func.count(),
            func.sum(case((is_due, 1), else_=0)),
            func.min(case((is_due, Job.due_at)), type_=UTCDateTime()),
        )
        .where(Job.status.in_((PENDING, RUNNING, FAILED)))
        .group_by(Job.kind, Job.status)
    )
    found: dict[str, dict[str, int]] = {}
    oldest: dict[str, datetime] = {}
    for kind, status, count, due, first_due in rows:
        counts = found.setdefault(kind, {})
        counts[status] = int(count)
        if status == PENDING:
            counts["due"] = int(due or 0)
            if first_due is not None:
                oldest[kind] = first_due
    return [
        JobQueue(
            kind=kind,
            pending=counts.get(PENDING, 0),
            due=counts.get("due", 0),
            running=counts.get(RUNNING, 0),
            failed=counts.get(FAILED, 0),
            oldest_due=oldest.get(kind),
        )
        for kind, counts in sorted(found.items())
    ]
