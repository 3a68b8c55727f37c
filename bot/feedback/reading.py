"""Reading feedback: lists, one item's history, and the CSV export (triagers only)."""

from __future__ import annotations

from datetime import datetime

from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.feedback import config as feedback_config
from bot.feedback import messages as say
from bot.feedback import views as load
from bot.feedback.export import to_csv
from bot.feedback.messages import label
from bot.feedback.permissions import triager
from bot.feedback.rules import CLOSING, OPEN, STATUS_WORDS, STATUSES
from bot.messages import FileAttachment, Message, Outbound, Reply, ToUser, rich
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import feedback as fb_store

LIST_LIMIT = 30


class Reading:
    def __init__(self, services: Services, roles: Roles) -> None:
        self.s = services
        self.roles = roles

    async def list(self, event: CommandInvoked, rest: str) -> Reply:
        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            config = await feedback_config.load(work.session, work.ws_id)
            statuses: tuple[str, ...] = OPEN
            category = None
            mine = False
            heading = "Open feedback, most voted first"
            for word in rest.lower().split():
                if word == "mine":
                    mine = True
                elif word == "all":
                    statuses, heading = STATUSES, "All feedback, most voted first"
                elif word == "open":
                    statuses = OPEN
                elif word == "closed":
                    statuses, heading = CLOSING, "Closed feedback"
                elif word in STATUS_WORDS:
                    status = STATUS_WORDS[word]
                    statuses, heading = (status,), f"Feedback that is {label(status)}"
                elif word in config.categories:
                    category = word
                else:
                    raise UsageError(
                        f"“{word}” is not a status, a category or “mine”.\n"
                        "Usage: feedback list [status] [category] [mine]; statuses: "
                        f"{', '.join(label(s) for s in STATUSES)}, open, closed, all; "
                        f"categories: {', '.join(config.categories)}."
                    )
            rows = await fb_store.list_items(
                work.session,
                work.ws_id,
                statuses=statuses,
                category=category,
                submitter_id=viewer.member_id if mine else None,
                limit=LIST_LIMIT,
            )
            views = await load.views(work, [i for i, _ in rows], {i.id: n for i, n in rows})
            if category:
                heading += f" in {category}"
            if mine:
                heading += " (yours)"
            return Reply(message=say.item_list(views, heading))

        return await self.s.run(event, read)

    async def show(self, event: CommandInvoked, number: int) -> Reply:
        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            item = await load.item(work, number)
            view = await load.view(work, item)
            changes = await load.history(work, item)
            return Reply(message=say.history(view, changes, viewer.tz))

        return await self.s.run(event, read)

    async def export(self, event: CommandInvoked, rest: str) -> Reply:
        words = rest.split()

        async def export(work: Work) -> tuple[str, int]:
            actor = await triager(self.roles, work, event)
            since: datetime | None = None
            if words:
                if len(words) != 2 or words[0].lower() != "since":
                    raise UsageError("Usage: feedback export [since YYYY-MM-DD]")
                try:
                    day = datetime.strptime(words[1], "%Y-%m-%d")
                except ValueError:
                    raise UsageError(
                        f"“{words[1]}” is not a date; expected YYYY-MM-DD, e.g. "
                        "feedback export since 2026-11-01"
                    ) from None
                since = day.replace(tzinfo=actor.tz)
            rows = await fb_store.list_items(
                work.session, work.ws_id, statuses=STATUSES, since=since, limit=None
            )
            rows.sort(key=lambda row: row[0].number)
            views = await load.views(work, [i for i, _ in rows], {i.id: n for i, n in rows})
            notes = await fb_store.last_notes(work.session, [i.id for i, _ in rows])
            name = f"feedback-{work.now.astimezone(actor.tz):%Y-%m-%d}.csv"
            await work.send(
                f"feedback:export:{event.event_id}",
                Outbound(
                    target=ToUser(user=actor.ref),
                    message=Message(
                        text=rich(f"📄 Feedback export: {len(views)} items."),
                        file=FileAttachment(name=name, content=to_csv(views, notes, actor.tz)),
                    ),
                ),
            )
            return name, len(views)

        name, count = await self.s.run(event, export)
        return Reply(
            message=Message(
                text=rich(f"📄 Exported {count} items; I've sent you {name} in a direct message.")
            )
        )
