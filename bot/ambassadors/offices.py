"""Offices and locations: community managers add and remove them; anyone says where they work
(community managers can say it for someone else). Coverage counts people per office."""

from __future__ import annotations

from bot.ambassadors import messages as say
from bot.ambassadors import rules
from bot.ambassadors.coverage import Coverage
from bot.ambassadors.program import Program
from bot.args import split_args
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked, Event
from bot.ids import UserRef
from bot.messages import Reply
from bot.services import Services
from bot.text import MENTION, mentioned_ids
from bot.work import AlreadyDone, Work
from store import ambassadors as amb_store
from store.models import AmbassadorOffice

NONE_WORDS = ("none", "off", "-")


async def find(work: Work, name: str) -> AmbassadorOffice:
    """The office called `name` (any case), or a refusal listing the offices there are."""
    office = await amb_store.office(work.session, work.ws_id, name)
    if office is not None:
        return office
    known = [o.name for o in await amb_store.offices(work.session, work.ws_id)]
    raise UserError(
        f"There's no office “{name[:80]}”; "
        + (
            f"the offices are {', '.join(known)}."
            if known
            else "there are no offices yet (a community manager adds them: office add NAME)."
        )
    )


class Offices:
    def __init__(self, services: Services, program: Program, coverage: Coverage) -> None:
        self.s = services
        self.p = program
        self.coverage = coverage

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        match verb.lower():
            case "add":
                return await self.add(event, rest)
            case "remove" | "delete":
                return await self.remove(event, rest)
            case "set":
                return await self.set(event, rest)
            case "" | "list":
                return await self.list(event)
            case _:
                raise UsageError(
                    f"Usage: office {say.USAGE['office']}\nExample: {say.EXAMPLES['office'][0]}"
                )

    async def add(self, event: Event, rest: str) -> Reply:
        words = split_args(rest)
        tz: str | None = None
        if len(words) >= 2 and words[-2].lower() == "tz":
            tz, words = rules.time_zone(words[-1]), words[:-2]
        name = rules.office_name(" ".join(words))

        async def add(work: Work) -> None:
            await self.p.manager(work, event)
            existing = await amb_store.office(work.session, work.ws_id, name)
            if existing is not None:
                raise UserError(f"There's already an office “{existing.name}”; offices lists them.")
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            if not await amb_store.add_office(work.session, work.ws_id, name, tz, work.now):
                raise UserError(f"There's already an office “{name}”; offices lists them.")

        await self.s.run(event, add)
        zone = f" (time zone {tz})" if tz else ""
        return say.said(f"Added the office {name}{zone}. People join it with office set {name}.")

    async def remove(self, event: Event, rest: str) -> Reply:
        name = rules.office_name(" ".join(split_args(rest)))

        async def remove(work: Work) -> tuple[str, int]:
            await self.p.manager(work, event)
            office = await find(work, name)
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            return office.name, await amb_store.remove_office(work.session, office.id)

        removed, people = await self.s.run(event, remove)
        moved = ""
        if people:
            who = "1 person no longer has" if people == 1 else f"{people} people no longer have"
            moved = f" {who} an office (they can choose another with office set NAME)."
        return say.said(f"Removed the office {removed}.{moved}")

    async def set(self, event: Event, rest: str) -> Reply:
        """`office set [@person] NAME|none`: your own office, or (community managers) someone's."""
        ids = mentioned_ids(rest)
        if len(ids) > 1:
            raise UsageError("Name one person at a time, e.g. office set @bo Paris")
        target_ref = UserRef(event.workspace, ids[0]) if ids else None
        name = " ".join(split_args(MENTION.sub(" ", rest)))
        if not name:
            raise UsageError("Which office? e.g. office set Paris (offices lists them).")
        clear = name.lower() in NONE_WORDS

        async def change(work: Work) -> str:
            actor = await self.p.actor(work, event)
            target = actor
            if target_ref is not None and target_ref != actor.ref:
                await self.p.manager(work, event)
                target = await work.person(target_ref, event.profiles.get(target_ref.id))
                if target.is_bot:
                    raise UserError(f"{target.name} is a bot; offices are for people.")
            office = None if clear else await find(work, rules.office_name(name))
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            row = await amb_store.person_row(work.session, work.ws_id, target.member_id, work.now)
            before, row.office_id = row.office_id, office.id if office else None
            await self.coverage.refresh(work, [before, row.office_id])
            whose = "Your" if target is actor else f"{target.name}'s"
            return f"{whose} office is now {office.name if office else 'none'}."

        return say.said(await self.s.run(event, change, people=[target_ref] if target_ref else []))

    async def list(self, event: Event) -> Reply:
        async def read(work: Work) -> str:
            await self.p.actor(work, event)
            offices = await amb_store.offices(work.session, work.ws_id)
            if not offices:
                return "No offices yet; a community manager adds them with office add NAME."
            people = await amb_store.office_counts(work.session, work.ws_id)
            lines = ["Offices:"]
            for office in offices:
                ambassadors = await amb_store.active_in_office(work.session, office.id)
                zone = f", {office.tz}" if office.tz else ""
                lines.append(
                    f"• {office.name}{zone}: {_people(people.get(office.id, 0))}, "
                    f"{ambassadors} ambassador{'s' if ambassadors != 1 else ''}"
                )
            return "\n".join(lines)

        return say.said(await self.s.run(event, read))


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"
