"""Feedback's scheduled work, as durable jobs (bot/scheduler.py): aging reminders, the daily
summary of aging items and the weekly digest.

Recurring jobs enqueue their next occurrence under an idempotency key per period
(`feedback:daily:<ws>:<date>`, `feedback:digest:<ws>:<ISO week>`), so they fire once per period
even across restarts and several replicas. Every message they send has a key of its own, so a job
re-run after a crash never sends twice.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.ids import ConversationKind, ConversationRef, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, ToConversation, ToUser
from bot.services import Services
from store import feedback as fb_store
from store.models import FeedbackItem, Member

AGING = "feedback.aging"
DAILY = "feedback.daily"
DIGEST = "feedback.digest"
SUMMARY_HOUR = time(9, 0)  # daily summary and weekly digest, in the workspace's time zone
CURATORS = ("curator", "community_manager")


class JobArgs(BaseModel):
    workspace_id: int
    item_id: int = 0
    period: str = ""  # the date or ISO week the job is for
    start: datetime | None = None
    end: datetime | None = None


def add_working_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days (Monday to Friday), same local time of day."""
    current, added = start, 0
    while added < days:
        current = _shift(current, 1)
        if current.weekday() < 5:
            added += 1
    return current


def sub_working_days(end: datetime, days: int) -> datetime:
    current, removed = end, 0
    while removed < days:
        current = _shift(current, -1)
        if current.weekday() < 5:
            removed += 1
    return current


def _shift(local: datetime, days: int) -> datetime:
    # A calendar day on the wall clock, not 24 hours, so DST changes keep the time of day.
    assert local.tzinfo is not None
    return (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=local.tzinfo)


def _at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, SUMMARY_HOUR, tzinfo=tz)


def next_daily(now: datetime, tz: ZoneInfo) -> datetime:
    """The next working day's summary time strictly after `now`."""
    day = now.astimezone(tz).date()
    while _at(day, tz) <= now or day.weekday() >= 5:
        day += timedelta(days=1)
    return _at(day, tz)


def next_weekly(now: datetime, tz: ZoneInfo) -> datetime:
    """The next Monday's summary time strictly after `now`."""
    day = now.astimezone(tz).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    while _at(day, tz) <= now:
        day += timedelta(days=7)
    return _at(day, tz)


def week_key(when: datetime, tz: ZoneInfo) -> str:
    year, week, _ = when.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


class FeedbackJobs:
    def __init__(self, services: Services) -> None:
        self.s = services
        services.scheduler.register(AGING, self._aging)
        services.scheduler.register(DAILY, self._daily)
        services.scheduler.register(DIGEST, self._digest)

    # ----- scheduling (inside the caller's transaction) ---------------------------------------

    async def zone(self, session: AsyncSession, ws_id: int) -> ZoneInfo:
        return await load.workspace_zone(session, ws_id, self.s.settings.default_timezone)

    async def schedule_aging(
        self, session: AsyncSession, ws_id: int, item: FeedbackItem, days: int
    ) -> None:
        tz = await self.zone(session, ws_id)
        due = add_working_days(item.created_at.astimezone(tz), days)
        await self.s.scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind=AGING,
            key=f"feedback:aging:{item.id}",
            payload=JobArgs(workspace_id=ws_id, item_id=item.id).model_dump_json(),
            due_at=due,
        )

    async def ensure_recurring(self, session: AsyncSession, ws_id: int) -> None:
        """Makes sure the next daily summary and weekly digest exist (a no-op when they do)."""
        tz = await self.zone(session, ws_id)
        now = self.s.clock.now()
        await self._enqueue_daily(session, ws_id, next_daily(now, tz), tz)
        await self._enqueue_digest(session, ws_id, next_weekly(now, tz), tz)

    async def _enqueue_daily(
        self, session: AsyncSession, ws_id: int, due: datetime, tz: ZoneInfo
    ) -> None:
        period = due.astimezone(tz).date().isoformat()
        await self.s.scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind=DAILY,
            key=f"feedback:daily:{ws_id}:{period}",
            payload=JobArgs(workspace_id=ws_id, period=period).model_dump_json(),
            due_at=due,
        )

    async def _enqueue_digest(
        self, session: AsyncSession, ws_id: int, due: datetime, tz: ZoneInfo
    ) -> None:
        period = week_key(due, tz)
        start = _shift(due.astimezone(tz), -7)
        await self.s.scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind=DIGEST,
            key=f"feedback:digest:{ws_id}:{period}",
            payload=JobArgs(
                workspace_id=ws_id, period=period, start=start, end=due
            ).model_dump_json(),
            due_at=due,
        )

    # ----- handlers ---------------------------------------------------------------------------

    async def _aging(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        async with self.s.db.transaction() as session:
            item = await fb_store.get_item(session, args.item_id)
            workspace = await load.workspace_ref(session, args.workspace_id)
            if item is None or workspace is None or item.status != "new":
                return  # acknowledged (or handled otherwise) in time: nothing to remind
            config = await feedback_config.load(session, args.workspace_id)
            view = await load.view(session, workspace, item)
            owner = item.owner_id is not None
            message = say.reminder([view], config.aging_days, owner)
            await self._to_curators(
                session,
                workspace,
                args.workspace_id,
                f"feedback:{item.id}:aging",
                message,
                owner_id=item.owner_id,
                channel=config.triage_channel,
            )
        self.s.scheduler.wake()

    async def _daily(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        now = self.s.clock.now()
        async with self.s.db.transaction() as session:
            workspace = await load.workspace_ref(session, args.workspace_id)
            if workspace is None:
                return
            tz = await self.zone(session, args.workspace_id)
            config = await feedback_config.load(session, args.workspace_id)
            cutoff = sub_working_days(now.astimezone(tz), config.aging_days)
            items = await fb_store.aging_items(session, args.workspace_id, cutoff)
            if items:
                views = await load.views(session, workspace, items)
                await self._to_curators(
                    session,
                    workspace,
                    args.workspace_id,
                    f"feedback:daily:{args.workspace_id}:{args.period}",
                    say.daily_summary(views, config.aging_days),
                    owner_id=None,
                    channel=config.triage_channel,
                    prefer_channel=True,
                )
            await self._enqueue_daily(session, args.workspace_id, next_daily(now, tz), tz)
        self.s.scheduler.wake()

    async def _digest(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        now = self.s.clock.now()
        async with self.s.db.transaction() as session:
            workspace = await load.workspace_ref(session, args.workspace_id)
            if workspace is None:
                return
            tz = await self.zone(session, args.workspace_id)
            config = await feedback_config.load(session, args.workspace_id)
            end = args.end or now
            start = args.start or end - timedelta(days=7)
            if config.leaders_channel:
                digest = await self._build_digest(session, workspace, args.workspace_id, start, end)
                await self.s.delivery.send(
                    session,
                    workspace,
                    args.workspace_id,
                    f"feedback:digest:{args.workspace_id}:{args.period}",
                    Outbound(
                        target=ToConversation(
                            conversation=ConversationRef(workspace, config.leaders_channel)
                        ),
                        message=say.digest(digest, tz),
                    ),
                )
            await self._enqueue_digest(session, args.workspace_id, next_weekly(now, tz), tz)
        self.s.scheduler.wake()

    async def _build_digest(
        self,
        session: AsyncSession,
        workspace: WorkspaceRef,
        ws_id: int,
        start: datetime,
        end: datetime,
    ) -> say.Digest:
        created = await fb_store.items_between(session, ws_id, "created_at", start, end)
        by_category: dict[str, int] = {}
        for item in created:
            key = item.category or "uncategorised"
            by_category[key] = by_category.get(key, 0) + 1
        top = [
            (item, votes)
            for item, votes in await fb_store.list_items(
                session, ws_id, statuses=fb_store.OPEN, limit=5
            )
            if votes
        ]
        closed = await fb_store.items_between(session, ws_id, "closed_at", start, end)
        notes = await fb_store.last_notes(session, [i.id for i in closed])
        acked = await fb_store.items_between(session, ws_id, "acknowledged_at", start, end)
        ack_hours = [
            (i.acknowledged_at - i.created_at).total_seconds() / 3600
            for i in acked
            if i.acknowledged_at
        ]
        close_hours = [
            (i.closed_at - i.created_at).total_seconds() / 3600 for i in closed if i.closed_at
        ]
        top_views = await load.views(
            session, workspace, [i for i, _ in top], dict((i.id, v) for i, v in top)
        )
        closed_views = await load.views(session, workspace, closed)
        return say.Digest(
            start=start,
            end=end,
            new_by_category=dict(sorted(by_category.items())),
            top=top_views,
            closed=[(v, notes.get(v.item.id, "")) for v in closed_views],
            median_ack=statistics.median(ack_hours) if ack_hours else None,
            median_close=statistics.median(close_hours) if close_hours else None,
        )

    async def _to_curators(
        self,
        session: AsyncSession,
        workspace: WorkspaceRef,
        ws_id: int,
        key: str,
        message: Message,
        *,
        owner_id: int | None,
        channel: str | None,
        prefer_channel: bool = False,
    ) -> None:
        """To the owner; else the triage channel (when preferred); else every curator and
        community manager (admins when there are none); else the triage channel."""
        people: list[Member] = []
        if owner_id is not None:
            people = list((await fb_store.members_by_id(session, [owner_id])).values())
        if not people and not (prefer_channel and channel):
            people = await fb_store.members_with_roles(session, ws_id, CURATORS)
            if not people:
                people = await fb_store.members_with_roles(session, ws_id, ("admin",))
        if not people:
            if channel:
                conv = ConversationRef(workspace, channel, ConversationKind.CHANNEL)
                await self.s.delivery.send(
                    session,
                    workspace,
                    ws_id,
                    f"{key}:channel",
                    Outbound(target=ToConversation(conversation=conv), message=message),
                )
            return
        for member in people:
            await self.s.delivery.send(
                session,
                workspace,
                ws_id,
                f"{key}:to:{member.id}",
                Outbound(
                    target=ToUser(user=UserRef(workspace, member.external_id)), message=message
                ),
            )
