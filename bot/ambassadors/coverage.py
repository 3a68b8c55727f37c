"""Coverage: every office and team with its ambassadors, flagged below the target, and the
weekly note to community managers about offices that lost their last ambassador.

Each roster change calls `refresh` in its own unit of work, which keeps every office's
`covered` flag and `uncovered_since` right; the weekly job only reads them. The job is one row
per ISO week (`ambassadors:coverage:<ws>:<week>`), so it fires once a week even with several
replicas, and it queues next week's before it ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot import calendar
from bot.ambassadors import messages as say
from bot.ambassadors.program import Program
from bot.events import Event
from bot.ids import WorkspaceRef
from bot.messages import Card, CardField, Message, Reply, Section, plain_text, rich
from bot.services import Services
from bot.work import Work
from store import ambassadors as amb_store
from store.models import AmbassadorOffice

WEEKLY = "ambassadors.coverage"
NOTE_AT = time(9, 0)  # Mondays, in the workspace's time zone
MONDAY = frozenset({0})
STALE = timedelta(days=1)


class WeeklyArgs(BaseModel):
    workspace: WorkspaceRef
    period: str  # the ISO week
    due: datetime | None = None


class Coverage:
    def __init__(self, services: Services, program: Program) -> None:
        self.s = services
        self.p = program

    async def refresh(self, work: Work, office_ids: Iterable[int | None]) -> None:
        """After a roster change: marks each office covered or, when it has just lost its last
        ambassador, uncovered since now."""
        for office_id in dict.fromkeys(office_ids):
            if office_id is None:
                continue
            office = await work.session.get(AmbassadorOffice, office_id)
            if office is None:
                continue
            if await amb_store.active_in_office(work.session, office_id):
                office.covered, office.uncovered_since = True, None
            elif office.covered:
                office.covered, office.uncovered_since = False, work.now
        await self.ensure_weekly(work)

    async def ensure_weekly(self, work: Work) -> None:
        """Makes sure next Monday's note exists (a no-op when it does)."""
        tz = await work.timezone()
        due = calendar.next_local_time(work.now, tz, NOTE_AT, MONDAY)
        period = calendar.iso_week_key(due, tz)
        args = WeeklyArgs(workspace=work.workspace, period=period, due=due)
        await work.enqueue(
            WEEKLY, f"ambassadors:coverage:{work.ws_id}:{period}", args.model_dump_json(), due
        )

    # ----- the report ---------------------------------------------------------------------

    async def report(self, event: Event) -> Reply:
        async def read(work: Work) -> Message:
            await self.p.actor(work, event)
            return await self._report(work)

        return Reply(message=await self.s.run(event, read))

    async def _report(self, work: Work) -> Message:
        config = await self.p.config(work)
        offices = await amb_store.offices(work.session, work.ws_id)
        people = await amb_store.office_counts(work.session, work.ws_id)
        roster = await amb_store.roster(work.session, work.ws_id)
        by_office: dict[int | None, list[str]] = {}
        by_team: dict[str, list[str]] = {}
        for row, member in roster:
            name = member.display_name or member.external_id
            by_office.setdefault(row.office_id, []).append(name)
            by_team.setdefault(member.team or "", []).append(name)
        fields: list[CardField] = []
        flagged: list[str] = []
        for office in offices:
            names = by_office.get(office.id, [])
            members = people.get(office.id, 0)
            ratio = f"{len(names)} for {members} member{'s' if members != 1 else ''}"
            if not names:
                flag = "⚠️ no ambassador"
                flagged.append(office.name)
            elif len(names) < config.target:
                flag = f"⚠️ below the target of {config.target}"
                flagged.append(office.name)
            else:
                flag = "✅"
            fields.append(
                CardField(
                    label=office.name,
                    value=rich(f"{flag} {', '.join(names) or '—'} ({ratio})"),
                )
            )
        if by_office.get(None):
            fields.append(CardField(label="No office", value=rich(", ".join(by_office[None]))))
        teams = await amb_store.team_counts(work.session, work.ws_id)
        team_fields = []
        for team in sorted(set(teams) | {t for t in by_team if t}, key=str.lower):
            names = by_team.get(team, [])
            members = teams.get(team, 0)
            mark = "✅" if names else "⚠️ no ambassador"
            team_fields.append(
                CardField(
                    label=f"Team {team}",
                    value=rich(f"{mark} {', '.join(names) or '—'} ({len(names)} for {members})"),
                )
            )
        if not offices:
            summary = "No offices yet: office add NAME adds one."
        elif flagged:
            summary = (
                f"{len(flagged)} of {len(offices)} offices below the target of {config.target} "
                f"ambassador{'s' if config.target != 1 else ''}: {', '.join(flagged)}."
            )
        else:
            summary = f"Every office has at least {config.target} ambassador(s)."
        sections = [Section(text=rich(summary))]
        if fields:
            sections.append(Section(fields=tuple(fields)))
        if team_fields:
            sections.append(Section(fields=tuple(team_fields)))
        lines = [summary] + [f"{f.label}: {plain_text(f.value)}" for f in (*fields, *team_fields)]
        return Message(
            text=rich("\n".join(lines)),
            card=Card(
                title=f"Ambassador coverage ({len(roster)} ambassador"
                f"{'s' if len(roster) != 1 else ''})",
                sections=tuple(sections),
                context=rich("Names only: nobody is pinged."),
            ),
        )

    # ----- the weekly note ----------------------------------------------------------------

    async def weekly(self, payload: str) -> None:
        args = WeeklyArgs.model_validate_json(payload)

        async def note(work: Work) -> None:
            tz = await work.timezone()
            lost = [
                o
                for o in await amb_store.offices(work.session, work.ws_id)
                if not o.covered and o.uncovered_since is not None
            ]
            # A note days late (the bot was down) would repeat next week's: it is skipped.
            stale = args.due is not None and work.now - args.due > STALE
            if lost and not stale:
                await self.p.to_managers(
                    work, f"ambassadors:coverage:{work.ws_id}:{args.period}", _note(lost, tz)
                )
            await self.ensure_weekly(work)

        await self.s.run_in(args.workspace, note)


def _note(lost: list[AmbassadorOffice], tz: ZoneInfo) -> Message:
    lines = [
        f"• {o.name}: no ambassador since {say.day(o.uncovered_since, tz)}"
        for o in lost
        if o.uncovered_since is not None
    ]
    text = (
        f"🗺️ Weekly coverage: {len(lost)} office{'s have' if len(lost) != 1 else ' has'} lost "
        "its last ambassador.\n" + "\n".join(lines) + "\nambassadors coverage shows the whole "
        "picture; ambassador add @person OFFICE fills a gap."
    )
    return Message(text=rich(text))
