"""The home view: your kudos this month, badges, rank, allowance left, and quick buttons.

Slack shows it in the App Home tab (published on app_home_opened and after anything that
changes it); Teams and the console show the same card for the `home` command.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from bot import calendar
from bot.directory import Person
from bot.events import ActionPressed, CommandInvoked, HomeOpened
from bot.ids import UserRef, WorkspaceRef
from bot.kudos.service import KudosService
from bot.messages import Button, Card, CardField, Message, Reply, Section, rich
from bot.recognition.events import RecognitionChanged
from bot.recognition.leaderboard import Leaderboards
from bot.recognition.profile import Profiles
from bot.recognition.service import Recognition
from bot.scheduler import Defer, GiveUp
from bot.services import Services
from bot.work import Work
from store import badges as badge_store
from store import recognition as rec_store

KIND = "home"
_HOME = "home-view-user"  # work.memo key: (this, member id) -> whether they use the home view


class _HomeJob(BaseModel):
    workspace: WorkspaceRef
    user_id: str


class Home:
    def __init__(
        self,
        services: Services,
        recognition: Recognition,
        kudos: KudosService,
        leaderboards: Leaderboards,
        profiles: Profiles,
    ) -> None:
        self.s = services
        self.recognition = recognition
        self.kudos = kudos
        self.leaderboards = leaderboards
        self.profiles = profiles

    async def content(self, person: Person) -> Message:
        """The home card, in a unit of work of its own (for callers outside any)."""

        async def build(work: Work) -> Message:
            return await self.content_in(work, person)

        return await self.s.run_in(person.ref.workspace, build)

    async def content_in(self, work: Work, person: Person) -> Message:
        """The home card, read inside the caller's unit of work."""
        session, ws_id = work.session, work.ws_id
        start = calendar.period_start("month", work.now, await work.timezone())
        received, given = await rec_store.member_totals(
            session, ws_id, person.member_id, "month", start
        )
        standing = await rec_store.standing_of(
            session,
            workspace_id=ws_id,
            member_id=person.member_id,
            period="month",
            start=start,
            value="",
            column="received",
            team=None,
        )
        held = await badge_store.held_by(session, person.member_id)
        prefs = await rec_store.preferences(session, person.member_id)
        left, allowance = await self.kudos.allowance_left(work, person)
        if prefs is not None and prefs.leaderboard_opt_out:
            rank = "hidden (you opted out)"
        elif standing is None:
            rank = "not on the board yet"
        else:
            rank = f"#{standing[1]} this month"
        badges = ", ".join(f"{h.badge.emoji} {h.badge.name}" for h in held[:10]) or "none yet"
        fields = (
            CardField(label="Kudos this month", value=rich(f"{received} received · {given} given")),
            CardField(label="Your rank", value=rich(rank)),
            CardField(label="Kudos you can give today", value=rich(f"{left} of {allowance}")),
            CardField(label="Badges", value=rich(badges)),
        )
        return Message(
            text=rich(
                f"{person.name}: {received} kudos received and {given} given this month; "
                f"rank: {rank}; {left} of {allowance} kudos left today."
            ),
            card=Card(
                title=f"Hi {person.name} 👋",
                sections=(Section(fields=fields),),
                buttons=(
                    Button(label="Give kudos", action_id="home:kudos", style="primary"),
                    Button(label="Leaderboard", action_id="home:leaderboard"),
                    Button(label="My profile", action_id="home:profile"),
                    # Opting in to ambassador nudges from Home (the nudges capability answers).
                    Button(label="Nudges", action_id="nudge:home"),
                ),
                context=rich("Updated whenever you give or receive kudos or earn a badge."),
            ),
        )

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        async def show(work: Work) -> Reply:
            person = await work.person(event.actor, event.actor_profile)
            return Reply(message=await self.content_in(work, person))

        return await self.s.run(event, show)

    async def on_opened(self, work: Work, event: HomeOpened) -> None:
        """A listener: the person opened their home tab; publish it and keep it fresh."""
        if not await work.claim(type(event).__name__):
            return
        person = await work.person(event.actor, event.actor_profile)
        await rec_store.update_preferences(
            work.session, person.member_id, work.now, home_opened=True
        )
        work.memo[(_HOME, person.member_id)] = True
        await self._enqueue(work, person.ref.id, event.event_id)

    async def refresh(self, work: Work, change: RecognitionChanged) -> None:
        """A follow-up: queues a fresh home view for people who use it, where there is one."""
        if not self.s.capabilities(work.workspace.platform).home_tab:
            return
        # The people of the changes still to come in this unit are read now too: a kudos that
        # earns a badge is two changes, one read.
        later = [
            p.member_id
            for e in work.follow_ups
            if isinstance(e, RecognitionChanged)
            for p in e.people
        ]
        users = await self._home_users(work, [p.member_id for p in change.people], later)
        for person in change.people:
            if person.member_id in users:
                await self._enqueue(work, person.ref.id, change.because)

    @staticmethod
    async def _home_users(
        work: Work, member_ids: list[int], also: list[int] | None = None
    ) -> set[int]:
        """Who of these uses the home view, read once per unit of work (with `also`, people
        asked about later in it): one kudos changes the recognition of both people, and a
        badge it earns once more."""
        memo = work.memo
        if any((_HOME, m) not in memo for m in member_ids):
            unread = [
                m for m in dict.fromkeys([*member_ids, *(also or ())]) if (_HOME, m) not in memo
            ]
        else:
            unread = []
        if unread:
            found = await rec_store.home_users(work.session, unread)
            memo.update(((_HOME, m), m in found) for m in unread)
        return {m for m in member_ids if memo[(_HOME, m)]}

    async def _enqueue(self, work: Work, user_id: str, because: str) -> None:
        await work.enqueue(
            KIND,
            f"{KIND}:{user_id}:{because}",
            _HomeJob(workspace=work.workspace, user_id=user_id).model_dump_json(),
            platform=work.workspace.platform.value,
        )

    async def publish(self, payload: str) -> None:
        job = _HomeJob.model_validate_json(payload)
        port = self.s.ports.get(job.workspace.platform)
        if port is None:
            raise Defer(
                self.s.clock.now() + timedelta(seconds=60),
                f"no adapter running for {job.workspace.platform}",
            )
        if not port.capabilities.home_tab:
            raise GiveUp(f"{job.workspace.platform} has no home view")
        ref = UserRef(job.workspace, job.user_id)

        async def build(work: Work) -> tuple[Person, Message]:
            person = await work.person(ref)
            # Built when sent, not when queued, so it shows the latest numbers.
            return person, await self.content_in(work, person)

        person, home = await self.s.uow.run(job.workspace, build, people=[ref])
        await port.publish_home(person.ref, home)

    async def on_action(self, event: ActionPressed) -> Reply | None:
        prefix = self.s.capabilities(event.workspace.platform).command_prefix

        async def act(work: Work) -> Reply | None:
            person = await work.person(event.actor, event.actor_profile)
            match event.action_id:
                case "home:kudos":
                    return Reply(
                        message=Message(
                            text=rich(
                                f"Thank someone with {prefix}kudos @person what for #value — or "
                                "react to their message with 👏 (Slack) or use “Give kudos” on "
                                "it (Teams)."
                            )
                        )
                    )
                case "home:leaderboard":
                    return Reply(
                        message=await self.leaderboards.board(
                            work, person, "received", "month", "", None
                        )
                    )
                case "home:profile":
                    return await self.profiles.own(work, event, person)
            return None

        return await self.s.run(event, act)
