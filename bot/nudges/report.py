"""Reach and health, for community managers: `content report [C-4|ambassadors]` (targeted,
delivered, shared, clicks, click-through rate; names only, never pings), its CSV export, and
`nudges status` (this week: sent, queued, deferred and suppressed by guardrail, per kind)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time

from bot import calendar
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.messages import FileAttachment, Message, Outbound, Reply, ToUser, rich
from bot.nudges import messages as say
from bot.nudges.content import item_or_error, parse_item
from bot.nudges.guardrails import KINDS
from bot.nudges.permissions import manager
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import nudges as store
from store.models import Member, Nudge


@dataclass
class Reach:
    targeted: int = 0
    delivered: int = 0
    shared: int = 0
    clicks: int = 0

    def add(self, nudge: Nudge, clicks: int) -> None:
        self.targeted += 1
        self.delivered += nudge.status == store.SENT
        self.shared += nudge.response == store.SHARED
        self.clicks += clicks

    @property
    def ctr(self) -> str:
        return f"{self.clicks / self.delivered:.0%}" if self.delivered else "n/a"

    def line(self) -> str:
        return (
            f"targeted {self.targeted}, delivered {self.delivered}, shared {self.shared}, "
            f"clicks {self.clicks}, CTR {self.ctr}"
        )


def _cell(value: str) -> str:
    # A leading =, +, - or @ makes spreadsheets evaluate the cell: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _name(member: Member) -> str:
    return member.display_name or member.external_id


class Report:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    async def content(self, event: CommandInvoked, rest: str) -> Reply:
        word = rest.strip()

        async def read(work: Work) -> str:
            await manager(self.roles, work, event)
            if word.lower() == "ambassadors":
                rows = await store.content_nudges(work.session, work.ws_id)
                per: dict[str, Reach] = defaultdict(Reach)
                for nudge, member, clicks in rows:
                    per[_name(member)].add(nudge, clicks)
                if not per:
                    return "No content nudges yet."
                lines = ["Reach per ambassador (all content):"]
                for name, reach in sorted(per.items(), key=lambda kv: (-kv[1].shared, kv[0])):
                    lines.append(f"• {name}: {reach.line()}")
                return "\n".join(lines)
            items = await store.content_items(work.session, work.ws_id)
            if word:
                items = [await item_or_error(work, parse_item(word))]
            if not items:
                return "No content yet."
            lines = []
            for item in items[-20:]:
                reach = Reach()
                for nudge, _, clicks in await store.content_nudges(
                    work.session, work.ws_id, item.id
                ):
                    reach.add(nudge, clicks)
                lines.append(f"• {say.c(item.number)} “{item.title}”: {reach.line()}")
            return "\n".join(lines)

        return Reply(message=Message(text=rich(await self.s.run(event, read))))

    async def export(self, event: CommandInvoked) -> Reply:
        async def export(work: Work) -> int:
            actor = await manager(self.roles, work, event)
            items = {i.id: i for i in await store.content_items(work.session, work.ws_id)}
            rows = await store.content_nudges(work.session, work.ws_id)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(
                (
                    "item",
                    "title",
                    "url",
                    "ambassador",
                    "status",
                    "sent",
                    "response",
                    "where",
                    "answered",
                    "clicks",
                )
            )
            tz = actor.tz
            for nudge, member, clicks in rows:
                item = items.get(nudge.content_id or 0)
                if item is None:
                    continue
                writer.writerow(
                    _cell(v)
                    for v in (
                        say.c(item.number),
                        item.title,
                        item.url,
                        _name(member),
                        nudge.status,
                        f"{nudge.sent_at.astimezone(tz):%Y-%m-%d %H:%M}" if nudge.sent_at else "",
                        nudge.response or "",
                        nudge.response_note or "",
                        f"{nudge.responded_at.astimezone(tz):%Y-%m-%d %H:%M}"
                        if nudge.responded_at
                        else "",
                        str(clicks),
                    )
                )
            name = f"content-{work.now.astimezone(tz):%Y-%m-%d}.csv"
            await work.send(
                f"nudges:export:{event.event_id}",
                Outbound(
                    target=ToUser(user=actor.ref),
                    message=Message(
                        text=rich(f"📄 Content export: {len(rows)} nudges."),
                        file=FileAttachment(name=name, content=out.getvalue()),
                    ),
                ),
            )
            return len(rows)

        count = await self.s.run(event, export)
        return Reply(message=Message(text=rich(f"I sent you the export ({count} rows) as a DM.")))

    async def status(self, event: CommandInvoked, rest: str) -> Reply:
        if rest.strip():
            raise UsageError("Usage: nudges status")

        async def read(work: Work) -> str:
            await manager(self.roles, work, event)
            tz = await work.timezone()
            week = calendar.week_start(work.now.astimezone(tz).date())
            since = calendar.day_start(datetime.combine(week, time(12), tz), tz).astimezone(UTC)
            counts = await store.week_counts(work.session, work.ws_id, since)
            table: dict[str, dict[str, int]] = {k: defaultdict(int) for k in KINDS}
            reasons: dict[str, dict[str, int]] = {k: defaultdict(int) for k in KINDS}
            for kind, status, reason, n in counts:
                table.setdefault(kind, defaultdict(int))[status] += n
                if status in (store.DEFERRED, store.SUPPRESSED) and reason:
                    reasons.setdefault(kind, defaultdict(int))[f"{status}: {reason}"] += n
            lines = [f"Nudges this week (since Monday {week:%d %b}, {tz.key}):"]
            for kind in table:
                row = table[kind]
                why = ", ".join(f"{r} {n}" for r, n in sorted(reasons[kind].items()))
                lines.append(
                    f"• {kind}: sent {row[store.SENT]}, queued {row[store.QUEUED]}, deferred "
                    f"{row[store.DEFERRED]}, suppressed {row[store.SUPPRESSED]}"
                    + (f" ({why})" if why else "")
                )
            return "\n".join(lines)

        return Reply(message=Message(text=rich(await self.s.run(event, read))))
