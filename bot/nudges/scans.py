"""The recurring jobs that find what to nudge about, reading other capabilities' data through
sources.py: open questions in a person's topics (hourly), the next training step not done and
check-ins after N weeks of inactivity (daily).

Each scan enqueues its next run under a key per period (`nudges:questions:<ws>:<hour>`,
`nudges:daily:<ws>:<date>`), so it runs once per period across restarts and replicas; each
nudge it queues is unique per person and subject, so a scan run twice queues nothing twice,
and a scan with nothing new sends nothing.
"""

from __future__ import annotations

from datetime import UTC, time, timedelta

from pydantic import BaseModel

from bot import calendar
from bot.ids import WorkspaceRef
from bot.nudges import sources
from bot.nudges.campaigns import Campaigns
from bot.services import Services
from bot.work import Work
from store import nudges as store

QUESTIONS = "nudges.questions"
DAILY = "nudges.daily"
DEFAULT_CHECKIN_WEEKS = 4
DAILY_AT = time(8, 0)  # workspace time; each nudge still waits for its person's own morning


class ScanArgs(BaseModel):
    workspace: WorkspaceRef
    period: str


class Scans:
    def __init__(self, services: Services, campaigns: Campaigns) -> None:
        self.s = services
        self.campaigns = campaigns
        self.handlers = {QUESTIONS: self._questions, DAILY: self._daily}

    async def ensure_recurring(self, work: Work) -> None:
        """Makes sure the next scans exist (a no-op when they do)."""
        await self._next_questions(work)
        await self._next_daily(work)

    async def _next_questions(self, work: Work) -> None:
        hour = work.now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        due = hour + timedelta(hours=1)
        period = f"{due:%Y-%m-%dT%H}"
        args = ScanArgs(workspace=work.workspace, period=period)
        await work.enqueue(
            QUESTIONS, f"nudges:questions:{work.ws_id}:{period}", args.model_dump_json(), due
        )

    async def _next_daily(self, work: Work) -> None:
        tz = await work.timezone()
        due = calendar.next_local_time(work.now, tz, DAILY_AT)
        period = due.astimezone(tz).date().isoformat()
        args = ScanArgs(workspace=work.workspace, period=period)
        await work.enqueue(
            DAILY, f"nudges:daily:{work.ws_id}:{period}", args.model_dump_json(), due
        )

    # ----- the scans --------------------------------------------------------------------------

    async def _questions(self, payload: str) -> None:
        args = ScanArgs.model_validate_json(payload)

        async def scan(work: Work) -> None:
            await self.offer_questions(work)
            await self._next_questions(work)

        await self.s.run_in(args.workspace, scan)

    async def offer_questions(self, work: Work) -> int:
        """Each unclaimed question to the opted-in ambassadors interested in its topic who
        aren't experts on it already."""
        questions = await sources.open_questions(work.session, work.ws_id)
        if not questions:
            return 0
        people = await sources.ambassadors(work.session, work.ws_id)
        experts = await sources.experts_by_topic(work.session, work.ws_id)
        queued = 0
        for q in questions:
            topic = q.topic.casefold()
            wanted = [
                p.member_id
                for p in people
                if topic in p.interests and p.member_id not in experts.get(q.topic_id, set())
            ]
            if wanted:
                queued += await self.campaigns.queue(
                    work, kind="questions", subject=f"question:{q.id}", member_ids=wanted
                )
        return queued

    async def _daily(self, payload: str) -> None:
        args = ScanArgs.model_validate_json(payload)

        async def scan(work: Work) -> None:
            await self.offer_training(work)
            await self.check_in(work)
            await self._next_daily(work)

        await self.s.run_in(args.workspace, scan)

    async def offer_training(self, work: Work) -> int:
        steps = await sources.first_undone_steps(work.session, work.ws_id)
        if not steps:
            return 0
        active = {
            a.member_id for a in await sources.ambassadors(work.session, work.ws_id, list(steps))
        }
        by_step: dict[int, list[int]] = {}
        for member_id, step in steps.items():
            if member_id in active:
                by_step.setdefault(step.id, []).append(member_id)
        queued = 0
        for step_id, members in by_step.items():
            queued += await self.campaigns.queue(
                work, kind="training", subject=f"training:{step_id}", member_ids=members
            )
        return queued

    async def check_in(self, work: Work) -> int:
        """A warm check-in after N weeks without a sign of life, once per inactive stretch
        (the subject names the stretch by the day it began)."""
        settings = await store.settings(work.session, work.ws_id)
        weeks = (settings.checkin_weeks if settings else None) or DEFAULT_CHECKIN_WEEKS
        people = await sources.ambassadors(work.session, work.ws_id)
        latest = await sources.last_activity(work.session, people)
        cutoff = work.now - timedelta(weeks=weeks)
        queued = 0
        for person in people:
            last = latest.get(person.member_id)
            if last is None or last > cutoff:
                continue
            queued += await self.campaigns.queue(
                work,
                kind="checkins",
                subject=f"checkin:{last.date().isoformat()}",
                member_ids=[person.member_id],
            )
        return queued
