"""Onboarding and training: the checklists (one for ambassadors, one for community managers),
each person's card with a "Done" button per step, and gentle reminders.

Finishing the ambassador checklist counts one `trainings_completed` through recognition's
`bump`, in the same transaction as the last tick, so the "Trained ambassador" rule awards its
badge then, and only once (`completed_at` is set once; the badge is not repeatable).

A reminder is a job per (person, checklist, step): its key makes it at most one per step. It
waits until the person has made no progress for the configured days (it defers when they did
meanwhile), and then until their working hours (bot/routing/availability.py when they set
them, else the platform's time zone with the calendar's default hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.ambassadors import messages as say
from bot.ambassadors import rules
from bot.ambassadors.program import Program
from bot.ambassadors.rules import AMBASSADOR, MANAGER
from bot.args import split_args
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import Event
from bot.ids import WorkspaceRef
from bot.messages import Message, Reply, rich
from bot.recognition.service import Recognition
from bot.routing import availability
from bot.scheduler import Defer
from bot.services import Services
from bot.work import AlreadyDone, Work
from store import ambassadors as amb_store
from store import routing as routing_store
from store.models import TrainingStep

REMIND = "ambassadors.training_reminder"
COUNTER = "trainings_completed"


class ReminderArgs(BaseModel):
    workspace: WorkspaceRef
    member_id: int
    track: str
    step_id: int


def card_key(member_id: int, track: str) -> str:
    return f"training:{member_id}:{track}:card"


def remind_key(member_id: int, track: str, step_id: int) -> str:
    return f"ambassadors:remind:{member_id}:{track}:{step_id}"


class Training:
    def __init__(self, services: Services, program: Program, recognition: Recognition) -> None:
        self.s = services
        self.p = program
        self.recognition = recognition

    # ----- the checklists -----------------------------------------------------------------

    async def steps(self, work: Work, track: str) -> list[TrainingStep]:
        """The track's steps, seeding every track's defaults the first time (once: steps a
        community manager removed later are not brought back)."""
        row = await amb_store.settings(work.session, work.ws_id)
        seeded = row is not None and row.steps_seeded  # the common case: a read, no write
        if not seeded and await amb_store.claim_seeding(work.session, work.ws_id, work.now):
            for name, defaults in rules.DEFAULT_STEPS.items():
                if await amb_store.steps(work.session, work.ws_id, name):
                    continue
                for i, (title, link) in enumerate(defaults, start=1):
                    await amb_store.add_step(
                        work.session, work.ws_id, name, i, title, link, work.now
                    )
        return await amb_store.steps(work.session, work.ws_id, track)

    async def views(self, work: Work, track: str, member_id: int | None) -> list[say.StepView]:
        steps = await self.steps(work, track)
        done = (
            await amb_store.ticked(work.session, member_id, [s.id for s in steps])
            if member_id is not None
            else set()
        )
        return [
            say.StepView(s.id, i, s.title, s.link, s.id in done)
            for i, s in enumerate(steps, start=1)
        ]

    async def start(self, work: Work, person: Person, track: str) -> bool:
        """Starts `person` on a checklist and sends them its card (in the caller's unit of
        work); False when they had started it before."""
        if not await amb_store.start_progress(
            work.session, work.ws_id, person.member_id, track, work.now
        ):
            return False
        views = await self.views(work, track, person.member_id)
        await self.p.dm(
            work, card_key(person.member_id, track), person.ref, say.checklist(track, views, False)
        )
        await self.schedule(work, person.member_id, track, views)
        return True

    async def schedule(
        self, work: Work, member_id: int, track: str, views: list[say.StepView]
    ) -> None:
        """The reminder for the first step not done yet (a no-op when it exists)."""
        step = next((v for v in views if not v.done), None)
        if step is None:
            return
        config = await self.p.config(work)
        args = ReminderArgs(
            workspace=work.workspace, member_id=member_id, track=track, step_id=step.id
        )
        await work.enqueue(
            REMIND,
            remind_key(member_id, track, step.id),
            args.model_dump_json(),
            work.now + timedelta(days=config.reminder_days),
        )

    # ----- commands -----------------------------------------------------------------------

    async def command(self, event: Event, args: str) -> Reply:
        words = split_args(args)
        track, explicit = AMBASSADOR, False
        if words and words[0].lower() in (MANAGER, "managers", "cm"):
            track, words, explicit = MANAGER, words[1:], True
        verb = words[0].lower() if words else "list"
        rest = words[1:]
        match verb:
            case "list" | "show":
                return await self.show(event, track)
            case "add":
                return await self.add(event, track, rest)
            case "remove" | "delete":
                return await self.remove(event, track, rest)
            case "reorder":
                return await self.reorder(event, track, rest)
            case "done":
                if rest and rest[-1].lower() in (MANAGER, "cm"):
                    track, rest, explicit = MANAGER, rest[:-1], True
                if len(rest) != 1:
                    raise UsageError(
                        "Say which step you finished, e.g. training done 2 (training shows the "
                        "numbers)."
                    )
                return await self.done(event, rest[0], track if explicit else None)
            case "status":
                return await self.status(event)
            case _:
                raise UsageError(
                    f"I don't know “training {verb[:30]}”.\nUsage: training "
                    f"{say.USAGE['training']}\nExample: training done 1"
                )

    async def show(self, event: Event, track: str) -> Reply:
        async def read(work: Work) -> Message:
            actor = await self.p.actor(work, event)
            mine = await amb_store.progress(work.session, actor.member_id, track)
            views = await self.views(work, track, actor.member_id if mine else None)
            if mine:
                return say.checklist(track, views, mine.completed_at is not None)
            return say.steps_list(track, views)

        return Reply(message=await self.s.run(event, read))

    async def add(self, event: Event, track: str, words: list[str]) -> Reply:
        if not 1 <= len(words) <= 2:
            raise UsageError(
                "Quote the step, and its link if it has one, e.g. "
                "training add “Shadow a meetup” “https://wiki.example.com/meetups”"
            )
        title = rules.checked_text(words[0], "step", rules.MAX_STEP)
        if title is None:
            raise UsageError("The step is empty; e.g. training add “Shadow a meetup”")
        link = rules.step_link(words[1] if len(words) > 1 else None)

        async def add(work: Work) -> int:
            await self.p.manager(work, event)
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            steps = await self.steps(work, track)
            position = (steps[-1].position + 1) if steps else 1
            await amb_store.add_step(
                work.session, work.ws_id, track, position, title, link, work.now
            )
            return len(steps) + 1

        number = await self.s.run(event, add)
        return say.said(f"Added step {number} to the {rules.TRACK_LABELS[track]}: “{title}”.")

    async def remove(self, event: Event, track: str, words: list[str]) -> Reply:
        if len(words) != 1:
            raise UsageError("Which step? e.g. training remove 2 (training shows the numbers).")

        async def remove(work: Work) -> str:
            await self.p.manager(work, event)
            steps = await self.steps(work, track)
            step = self._step(steps, words[0], "training remove 2")
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            await amb_store.delete_step(work.session, step.id)
            left = [s for s in steps if s.id != step.id]
            for i, kept in enumerate(left):
                kept.position = i + 1
            finished = await self._finish_changed(work, event, track, left)
            done = f" That completes it for {', '.join(finished)}." if finished else ""
            return f"Removed “{step.title}” from the {rules.TRACK_LABELS[track]}.{done}"

        return say.said(await self.s.run(event, remove))

    async def _finish_changed(
        self, work: Work, event: Event, track: str, steps: list[TrainingStep]
    ) -> list[str]:
        """After a step is removed: whoever has now done every remaining step has finished
        (counted once, as a last tick would), and is told."""
        names: list[str] = []
        if not steps:
            return names
        for progress, member in await amb_store.open_progress(work.session, work.ws_id):
            if progress.track != track:
                continue
            done = await amb_store.ticked(work.session, member.id, [s.id for s in steps])
            if len(done) < len(steps):
                continue
            progress.completed_at = work.now
            person = self.p.person_of(work, member)
            if track == AMBASSADOR:
                await self.recognition.bump(work, person, COUNTER, 1)
            views = await self.views(work, track, member.id)
            key = card_key(member.id, track)
            if await work.was_queued(key):
                await work.edit(key, say.checklist(track, views, True), because=event.event_id)
            await self.p.dm(
                work,
                f"training:{member.id}:{track}:finished",
                person.ref,
                Message(
                    text=rich(
                        f"🎓 The {rules.TRACK_LABELS[track]} changed, and you've done every "
                        "step that is left: you finished it. Thank you!"
                    )
                ),
            )
            names.append(person.name)
        return names

    async def reorder(self, event: Event, track: str, words: list[str]) -> Reply:
        async def reorder(work: Work) -> list[str]:
            await self.p.manager(work, event)
            steps = await self.steps(work, track)
            order = rules.reorder(words, len(steps))
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            for position, index in enumerate(order, start=1):
                steps[index].position = position
            return [steps[i].title for i in order]

        titles = await self.s.run(event, reorder)
        lines = "\n".join(f"{i}. {t}" for i, t in enumerate(titles, start=1))
        return say.said(f"The {rules.TRACK_LABELS[track]} is now:\n{lines}")

    def _step(self, steps: list[TrainingStep], token: str, example: str) -> TrainingStep:
        if not steps:
            raise UserError("That checklist has no steps yet (training add “Step” adds one).")
        number = rules.whole_number(token, "step number", 1, rules.MAX_NUMBER, example)
        if number > len(steps):
            raise UserError(
                f"There's no step {number}: the checklist has {len(steps)} step"
                f"{'s' if len(steps) != 1 else ''} (training shows them)."
            )
        return steps[number - 1]

    # ----- ticking steps off ----------------------------------------------------------------

    async def done(self, event: Event, token: str, track: str | None) -> Reply:
        """`training done N [manager]`: with no checklist named, the one the person is working
        through (the ambassador one first)."""

        async def pick(work: Work) -> tuple[str, TrainingStep]:
            actor = await self.p.actor(work, event)
            chosen = track
            if chosen is None:
                runs = {
                    t: await amb_store.progress(work.session, actor.member_id, t)
                    for t in rules.TRACKS
                }
                open_runs = [t for t, r in runs.items() if r and r.completed_at is None]
                started = [t for t, r in runs.items() if r]
                chosen = (open_runs or started or [AMBASSADOR])[0]
            steps = await self.steps(work, chosen)
            return chosen, self._step(steps, token, "training done 1")

        chosen, step = await self.s.run(event, pick)
        return await self.tick(event, chosen, step.id)

    async def tick(self, event: Event, track: str, step_id: int) -> Reply:
        """Ticks one step (a button or a command), updates the card, and on the last step
        counts the training."""

        async def tick(work: Work) -> str:
            actor = await self.p.actor(work, event)
            progress = await amb_store.progress(work.session, actor.member_id, track)
            if progress is None:
                raise UserError(
                    "You have no ambassador checklist yet: it starts when you join the program "
                    "(ambassador join) and say I'm in."
                    if track == AMBASSADOR
                    else "You have no community-manager checklist: it starts when a community "
                    "you requested is approved."
                )
            views = await self.views(work, track, actor.member_id)
            step = next((v for v in views if v.id == step_id), None)
            if step is None:
                raise UserError(
                    "That step is no longer on the checklist (a community manager changed it); "
                    "training shows the current steps."
                )
            if step.done:
                return f"Step {step.number} (“{step.title}”) is already done."
            if not await work.claim(type(event).__name__):
                raise AlreadyDone()
            await amb_store.tick(work.session, actor.member_id, step_id, work.now)
            progress.last_progress_at = work.now
            views = [
                say.StepView(v.id, v.number, v.title, v.link, v.done or v.id == step_id)
                for v in views
            ]
            finished = all(v.done for v in views) and progress.completed_at is None
            if finished:
                progress.completed_at = work.now
                if track == AMBASSADOR:
                    await self.recognition.bump(work, actor, COUNTER, 1)
            card = say.checklist(track, views, progress.completed_at is not None)
            key = card_key(actor.member_id, track)
            if await work.was_queued(key):
                await work.edit(key, card, because=event.event_id)
            if finished:
                return (
                    f"🎓 That was the last step: you finished the {rules.TRACK_LABELS[track]}. "
                    "Thank you!"
                )
            await self.schedule(work, actor.member_id, track, views)
            left = sum(1 for v in views if not v.done)
            return f"✅ Step {step.number} done (“{step.title}”); {left} to go."

        try:
            return say.said(await self.s.run(event, tick))
        except AlreadyDone:
            return say.said("Already done.")

    # ----- who is stuck -------------------------------------------------------------------

    async def status(self, event: Event) -> Reply:
        async def read(work: Work) -> str:
            await self.p.manager(work, event)
            tz = await work.timezone()
            lines: list[str] = []
            by_track = {t: await self.steps(work, t) for t in rules.TRACKS}
            for progress, member in await amb_store.open_progress(work.session, work.ws_id):
                steps = by_track.get(progress.track, [])
                done = await amb_store.ticked(work.session, member.id, [s.id for s in steps])
                stuck = next(
                    ((i, s) for i, s in enumerate(steps, start=1) if s.id not in done), None
                )
                name = member.display_name or member.external_id
                days = (work.now - progress.last_progress_at).days
                since = say.day(progress.last_progress_at, tz)
                what = rules.TRACK_LABELS[progress.track]
                if stuck is None:
                    lines.append(f"• {name} ({what}): every step done.")
                else:
                    lines.append(
                        f"• {name} ({what}): on step {stuck[0]} “{stuck[1].title}”, "
                        f"{len(done)} of {len(steps)} done, no progress for {days} day"
                        f"{'s' if days != 1 else ''} (since {since})."
                    )
            finished = await amb_store.completed_count(work.session, work.ws_id, AMBASSADOR)
            head = (
                f"Training: {len(lines)} in progress, {finished} ambassador"
                f"{'s' if finished != 1 else ''} trained."
            )
            return "\n".join([head, *lines])

        return say.said(await self.s.run(event, read))

    # ----- the reminder job -----------------------------------------------------------------

    async def remind(self, payload: str) -> None:
        args = ReminderArgs.model_validate_json(payload)

        async def check(work: Work) -> datetime | None:
            """None when done (sent, or nothing to remind); else when to look again."""
            progress = await amb_store.progress(work.session, args.member_id, args.track)
            if progress is None or progress.completed_at is not None:
                return None
            if args.track == AMBASSADOR:
                row = await amb_store.person(work.session, args.member_id)
                if row is None or row.status != amb_store.ACTIVE:
                    return None  # left or removed meanwhile
            views = await self.views(work, args.track, args.member_id)
            step = next((v for v in views if not v.done), None)
            if step is None or step.id != args.step_id:
                return None  # that step is done: the next one has a reminder of its own
            config = await self.p.config(work)
            quiet_until = progress.last_progress_at + timedelta(days=config.reminder_days)
            if quiet_until > work.now:
                return quiet_until  # they made progress since this was queued
            member = (await amb_store.members_by_id(work.session, [args.member_id])).get(
                args.member_id
            )
            if member is None:
                return None
            person = self.p.person_of(work, member)
            hours = availability.of(
                person.tz, await routing_store.ally(work.session, member.id)
            ).hours
            if not hours.is_working(work.now):
                return hours.next_start(work.now)
            await self.p.dm(
                work,
                remind_key(args.member_id, args.track, args.step_id),
                person.ref,
                Message(
                    text=rich(
                        f"👋 A gentle nudge about your {rules.TRACK_LABELS[args.track]}: "
                        f"step {step.number}, “{step.title}”, is next. Press its Done button "
                        f"on your checklist or type training done {step.number}"
                        + (" manager" if args.track == MANAGER else "")
                        + " when it's done. No rush, and thank you!"
                    )
                ),
            )
            return None

        until = await self.s.run_in(args.workspace, check)
        if until is not None:
            raise Defer(until, "waiting for the quiet period or working hours")
