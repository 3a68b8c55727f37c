"""The home view: your kudos this month, badges, rank, allowance left, and quick buttons.

Slack shows it in the App Home tab (published on app_home_opened and after anything that
changes it); Teams and the console show the same card for the `home` command.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory import Person
from bot.events import ActionPressed, CommandInvoked, HomeOpened
from bot.ids import UserRef, WorkspaceRef
from bot.kudos.service import KudosService
from bot.messages import Button, Card, CardField, Message, Reply, Section, rich
from bot.recognition.leaderboard import Leaderboards
from bot.recognition.service import Recognition, period_start
from bot.scheduler import GiveUp, RetryLater
from bot.services import Services
from store import badges as badge_store
from store import recognition as rec_store

KIND = "home"


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
    ) -> None:
        self.s = services
        self.recognition = recognition
        self.kudos = kudos
        self.leaderboards = leaderboards
        services.scheduler.register(KIND, self._publish)

    async def content(self, person: Person) -> Message:
        workspace = person.ref.workspace
        ws_id = await self.s.directory.workspace_id(workspace)
        now = self.s.clock.now()
        async with self.s.db.transaction() as session:
            tz = await self.recognition.timezone(session, ws_id)
            start = period_start("month", now, tz)
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
        left, allowance = await self.kudos.allowance_left(person)
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
                ),
                context=rich("Updated whenever you give or receive kudos or earn a badge."),
            ),
        )

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        person = await self.s.directory.person(event.actor, event.actor_profile)
        return Reply(message=await self.content(person))

    async def on_opened(self, event: HomeOpened) -> None:
        person = await self.s.directory.person(event.actor, event.actor_profile)
        ws_id = await self.s.directory.workspace_id(event.workspace)
        async with self.s.db.transaction() as session:
            await rec_store.update_preferences(
                session, person.member_id, self.s.clock.now(), home_opened=True
            )
            await self._enqueue(session, event.workspace, ws_id, person.ref.id, event.event_id)
        self.s.scheduler.wake()

    async def refresh(
        self,
        session: AsyncSession,
        workspace: WorkspaceRef,
        ws_id: int,
        people: list[Person],
        event_id: str,
    ) -> None:
        """Queues a fresh home view for people who use it, on platforms that have one."""
        if not self.s.capabilities(workspace.platform).home_tab:
            return
        for person in people:
            prefs = await rec_store.preferences(session, person.member_id)
            if prefs is not None and prefs.home_opened_at is not None:
                await self._enqueue(session, workspace, ws_id, person.ref.id, event_id)

    async def _enqueue(
        self,
        session: AsyncSession,
        workspace: WorkspaceRef,
        ws_id: int,
        user_id: str,
        event_id: str,
    ) -> None:
        await self.s.scheduler.enqueue(
            session,
            workspace_id=ws_id,
            kind=KIND,
            key=f"{KIND}:{user_id}:{event_id}",
            payload=_HomeJob(workspace=workspace, user_id=user_id).model_dump_json(),
        )

    async def _publish(self, payload: str) -> None:
        job = _HomeJob.model_validate_json(payload)
        port = self.s.ports.get(job.workspace.platform)
        if port is None:
            raise RetryLater(f"no adapter running for {job.workspace.platform}", delay=60)
        if not port.capabilities.home_tab:
            raise GiveUp(f"{job.workspace.platform} has no home view")
        person = await self.s.directory.person(UserRef(job.workspace, job.user_id))
        # Built when sent, not when queued, so it shows the latest numbers.
        await port.publish_home(person.ref, await self.content(person))

    async def on_action(self, event: ActionPressed) -> Reply | None:
        person = await self.s.directory.person(event.actor, event.actor_profile)
        prefix = self.s.capabilities(event.workspace.platform).command_prefix
        match event.action_id:
            case "home:kudos":
                return Reply(
                    message=Message(
                        text=rich(
                            f"Thank someone with {prefix}kudos @person what for #value — or "
                            "react to their message with 👏 (Slack) or use “Give kudos” on it "
                            "(Teams)."
                        )
                    )
                )
            case "home:leaderboard":
                return Reply(
                    message=await self.leaderboards.board(person, "received", "month", "", None)
                )
            case "home:profile":
                return Reply(message=await self.content(person))
        return None
