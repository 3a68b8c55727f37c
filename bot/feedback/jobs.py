"""Feedback's scheduled work, as durable jobs (bot/scheduler.py): aging reminders, the daily
summary of aging items and the weekly digest.

Recurring jobs enqueue their next occurrence under an idempotency key per period
(`feedback:daily:<ws>:<date>`, `feedback:digest:<ws>:<ISO week>`), so they fire once per period
even across restarts and several replicas. Every message they send has a key of its own, so a job
re-run after a crash never sends twice. Each handler is one unit of work (bot/work.py).

Reminders go to the item's owner, else to everyone who may triage feedback (bot/roles.py decides,
admins from ALLYBOT_ADMINS included), else to the triage channel. A reminder with nobody to tell
goes to the workspace's admins, and when there is none either it is logged as an error: it never
vanishes silently.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot import calendar
from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.feedback.messages import fb
from bot.feedback.permissions import TRIAGE_FEEDBACK
from bot.ids import ConversationKind, ConversationRef, UserRef, WorkspaceRef
from bot.messages import Message, Outbound, ToConversation, ToUser
from bot.roles import CONFIGURE, Roles
from bot.services import Services
from bot.work import Work
from store import feedback as fb_store
from store.models import FeedbackItem, Member

log = logging.getLogger(__name__)

AGING = "feedback.aging"
DAILY = "feedback.daily"
DIGEST = "feedback.digest"
SUMMARY_HOUR = time(9, 0)  # daily summary and weekly digest, in the workspace's time zone
MONDAY = frozenset({0})


class JobArgs(BaseModel):
    workspace_id: int
    # Jobs queued before the payload carried the workspace look it up from `workspace_id`.
    workspace: WorkspaceRef | None = None
    item_id: int = 0
    period: str = ""  # the date or ISO week the job is for
    start: datetime | None = None
    end: datetime | None = None


class FeedbackJobs:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles
        # The handlers are declared in bot/feedback/capability.py.
        self.handlers = {AGING: self._aging, DAILY: self._daily, DIGEST: self._digest}

    # ----- scheduling (inside the caller's unit of work) --------------------------------------

    async def schedule_aging(self, work: Work, item: FeedbackItem, days: int) -> None:
        tz = await work.timezone()
        due = calendar.add_working_days(item.created_at.astimezone(tz), days)
        await work.enqueue(
            AGING,
            f"feedback:aging:{item.id}",
            JobArgs(
                workspace_id=work.ws_id, workspace=work.workspace, item_id=item.id
            ).model_dump_json(),
            due,
        )

    async def ensure_recurring(self, work: Work) -> None:
        """Makes sure the next daily summary and weekly digest exist (a no-op when they do)."""
        tz = await work.timezone()
        await self._enqueue_daily(work, tz)
        await self._enqueue_digest(work, tz)

    async def _enqueue_daily(self, work: Work, tz: ZoneInfo) -> None:
        """The next working day's summary, strictly after now."""
        due = calendar.next_local_time(work.now, tz, SUMMARY_HOUR, calendar.WEEKDAYS)
        period = due.astimezone(tz).date().isoformat()
        args = JobArgs(workspace_id=work.ws_id, workspace=work.workspace, period=period)
        await work.enqueue(
            DAILY, f"feedback:daily:{work.ws_id}:{period}", args.model_dump_json(), due
        )

    async def _enqueue_digest(self, work: Work, tz: ZoneInfo) -> None:
        """The next Monday's digest, strictly after now, covering the week before it."""
        due = calendar.next_local_time(work.now, tz, SUMMARY_HOUR, MONDAY)
        period = calendar.iso_week_key(due, tz)
        start = calendar.shift_days(due.astimezone(tz), -7)
        args = JobArgs(
            workspace_id=work.ws_id, workspace=work.workspace, period=period, start=start, end=due
        )
        await work.enqueue(
            DIGEST, f"feedback:digest:{work.ws_id}:{period}", args.model_dump_json(), due
        )

    # ----- handlers ---------------------------------------------------------------------------

    async def _workspace(self, args: JobArgs) -> WorkspaceRef | None:
        if args.workspace is not None:
            return args.workspace
        return await load.workspace_of(self.s.db, args.workspace_id)

    async def _aging(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        workspace = await self._workspace(args)
        if workspace is None:
            return

        async def remind(work: Work) -> None:
            item = await fb_store.get_item(work.session, args.item_id)
            if item is None or item.workspace_id != work.ws_id or item.status != "new":
                return  # acknowledged (or handled otherwise) in time: nothing to remind
            config = await feedback_config.load(work.session, work.ws_id)
            view = await load.view(work, item)
            owner = item.owner_id is not None
            await self._to_curators(
                work,
                f"feedback:{item.id}:aging",
                say.reminder([view], config.aging_days, owner),
                about=[item],
                owner_id=item.owner_id,
                channel=config.triage_channel,
            )

        await self.s.run_in(workspace, remind)

    async def _daily(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        workspace = await self._workspace(args)
        if workspace is None:
            return

        async def summarise(work: Work) -> None:
            tz = await work.timezone()
            config = await feedback_config.load(work.session, work.ws_id)
            cutoff = calendar.sub_working_days(work.now.astimezone(tz), config.aging_days)
            items = await fb_store.aging_items(work.session, work.ws_id, cutoff)
            if items:
                views = await load.views(work, items)
                await self._to_curators(
                    work,
                    f"feedback:daily:{work.ws_id}:{args.period}",
                    say.daily_summary(views, config.aging_days),
                    about=items,
                    owner_id=None,
                    channel=config.triage_channel,
                    prefer_channel=True,
                )
            await self._enqueue_daily(work, tz)

        await self.s.run_in(workspace, summarise)

    async def _digest(self, payload: str) -> None:
        args = JobArgs.model_validate_json(payload)
        workspace = await self._workspace(args)
        if workspace is None:
            return

        async def report(work: Work) -> None:
            tz = await work.timezone()
            config = await feedback_config.load(work.session, work.ws_id)
            end = args.end or work.now
            start = args.start or end - timedelta(days=7)
            if config.leaders_channel:
                digest = await self._build_digest(work, start, end)
                await work.send(
                    f"feedback:digest:{work.ws_id}:{args.period}",
                    Outbound(
                        target=ToConversation(
                            conversation=ConversationRef(work.workspace, config.leaders_channel)
                        ),
                        message=say.digest(digest, tz),
                    ),
                )
            await self._enqueue_digest(work, tz)

        await self.s.run_in(workspace, report)

    async def _build_digest(self, work: Work, start: datetime, end: datetime) -> say.Digest:
        session, ws_id = work.session, work.ws_id
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
        top_views = await load.views(work, [i for i, _ in top], {i.id: v for i, v in top})
        closed_views = await load.views(work, closed)
        return say.Digest(
            start=start,
            end=end,
            new_by_category=dict(sorted(by_category.items())),
            top=top_views,
            closed=[(v, notes.get(v.item.id, "")) for v in closed_views],
            median_ack=statistics.median(ack_hours) if ack_hours else None,
            median_close=statistics.median(close_hours) if close_hours else None,
        )

    # ----- recipients -------------------------------------------------------------------------

    async def _to_curators(
        self,
        work: Work,
        key: str,
        message: Message,
        *,
        about: Sequence[FeedbackItem],
        owner_id: int | None,
        channel: str | None,
        prefer_channel: bool = False,
    ) -> None:
        """To the owner; else the triage channel (when preferred); else everyone who may triage
        feedback; else the triage channel; else the workspace's admins; else an error logged."""
        session = work.session
        people: list[Member] = []
        if owner_id is not None:
            people = list((await fb_store.members_by_id(session, [owner_id])).values())
        if not people and not (prefer_channel and channel):
            people = await self.roles.members_who_can(work, TRIAGE_FEEDBACK)
        if not people and channel:
            conv = ConversationRef(work.workspace, channel, ConversationKind.CHANNEL)
            await work.send(
                f"{key}:channel",
                Outbound(target=ToConversation(conversation=conv), message=message),
            )
            return
        if not people:
            # Nobody owns it, nobody may triage and there is no channel: an admin must know.
            people = await self.roles.members_who_can(work, CONFIGURE)
        if not people:
            log.error(
                "feedback %s in workspace %s: nobody to remind (no owner, no triage channel, "
                "nobody who can triage feedback and no admin member); add a curator with "
                "`role add @person curator` or set `config feedback-channel`",
                ", ".join(fb(i.number) for i in about),
                work.workspace,
            )
            return
        for member in people:
            await work.send(
                f"{key}:to:{member.id}",
                Outbound(
                    target=ToUser(user=UserRef(work.workspace, member.external_id)),
                    message=message,
                ),
            )
