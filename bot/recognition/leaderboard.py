"""`leaderboard`: the top 10 for a period, plus where you stand; opted-out people are left out."""

from __future__ import annotations

from bot import calendar
from bot.args import split_args
from bot.directory import Person
from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.messages import Card, Message, Name, Reply, Rich, Section, Strong, rich
from bot.recognition.service import Recognition
from bot.services import Services
from bot.text import values_in
from bot.work import Work
from store import recognition as rec_store

USAGE = "[received|given] [week|month|quarter|all] [#value] [team NAME]"
EXAMPLES = ("leaderboard", "leaderboard given quarter #teamwork")
PERIOD_WORDS = {
    "week": "this week",
    "month": "this month",
    "quarter": "this quarter",
    "all": "all time",
}


class Leaderboards:
    def __init__(self, services: Services, recognition: Recognition) -> None:
        self.s = services
        self.recognition = recognition

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        column, period, value, team = parse(args)

        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            return Reply(message=await self.board(work, viewer, column, period, value, team))

        return await self.s.run(event, read)

    async def board(
        self, work: Work, viewer: Person, column: str, period: str, value: str, team: str | None
    ) -> Message:
        """The board `viewer` sees, read inside the caller's unit of work."""
        session, ws_id, workspace = work.session, work.ws_id, work.workspace
        start = calendar.period_start(period, work.now, await work.timezone())
        top = await rec_store.leaderboard(
            session,
            workspace_id=ws_id,
            period=period,
            start=start,
            value=value,
            column=column,
            team=team,
        )
        mine = await rec_store.standing_of(
            session,
            workspace_id=ws_id,
            member_id=viewer.member_id,
            period=period,
            start=start,
            value=value,
            column=column,
            team=team,
        )
        prefs = await rec_store.preferences(session, viewer.member_id)
        title = f"Kudos {column} {PERIOD_WORDS[period]}"
        if value:
            title += f" for #{value}"
        if team:
            title += f" in {team}"
        lines: Rich = ()
        for s in top:
            person = self.s.directory.from_member(workspace, s.member)
            # Names, not mentions: a leaderboard must not ping the people on it.
            lines += rich(f"{s.rank}. ", Name(user=person.ref, name=person.name), f" — {s.count}\n")
        if not top:
            lines = rich("Nobody yet. Be the first: kudos @person what for")
        if prefs is not None and prefs.leaderboard_opt_out:
            you = rich("You're hidden from leaderboards (privacy leaderboard on to show).")
        elif mine is None:
            you = rich(f"You have no kudos {column} {PERIOD_WORDS[period]} yet.")
        else:
            you = rich(Strong(text=f"You: #{mine[1]}"), f" with {mine[0]}.")
        return Message(
            text=rich(title + ": ") + lines + you,
            card=Card(
                title=title,
                sections=(Section(text=lines), Section(text=you)),
                context=rich(
                    "People who opted out are not shown. `privacy leaderboard off` hides you."
                ),
            ),
        )


def parse(args: str) -> tuple[str, str, str, str | None]:
    column, period, value, team = "received", "month", "", None
    words = split_args(args)
    i = 0
    while i < len(words):
        w = words[i].lower()
        if w in ("received", "given"):
            column = w
        elif w in PERIOD_WORDS:
            period = w
        elif values_in(words[i]):
            value = values_in(words[i])[0]
        elif w == "team":
            if i + 1 >= len(words):
                raise UsageError("Name the team: leaderboard team NAME")
            team, i = words[i + 1], i + 1
        else:
            raise UsageError(
                f"I don't understand “{words[i]}” here.\nUsage: leaderboard {USAGE}\n"
                f"Example: {EXAMPLES[1]}"
            )
        i += 1
    return column, period, value, team
