"""`allybot console`: act as people in a simulated workspace, errbot-style.

Lines starting with `/` are slash commands as on Slack (`/ally ...`, `/kudos ...`); lines
starting with `:` control the simulation (`:as bo`, `:react 3 clap`, `:help`); anything else is
posted as a message in the current channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from adapters.console import forms as console_forms
from adapters.console import sim_controls, world
from adapters.console.port import ConsolePort
from adapters.console.render import render
from bot.args import whole_number
from bot.bootstrap import bootstrap, open_database
from bot.clock import Clock, ShiftedClock
from bot.core import Allybot
from bot.errors import UsageError
from bot.events import (
    CommandInvoked,
    Event,
    MessageActionInvoked,
    MessagePosted,
    Profile,
    ReactionChanged,
)
from bot.ids import ConversationKind, ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import Button, Form
from bot.outage import UNAVAILABLE, DatabaseUnavailable
from bot.ports import Presence
from bot.settings import Settings
from store import Database
from store import console as sim

WS = WorkspaceRef(Platform.CONSOLE, world.WORKSPACE)
MAX_MESSAGE_ID = 999_999_999  # far past any simulated message; a 20-digit one overflows SQL

CONTROLS = (
    """\
Console controls (everything else you type is posted in the current channel):
  /ally help                 Allybot's commands, as on Slack (/kudos ... works too)
  @allybot kudos @bo ...     talk to Allybot in a channel by mentioning it
  :as NAME                   act as someone else (:people lists them)
  :in #CHANNEL | :in @allybot   switch channel, or to your DM with Allybot
  :react N EMOJI             react to message N (e.g. :react 3 clap, or :react last clap)
  :unreact N EMOJI           take the reaction back
  :thank N REASON            the "Give kudos" message action on message N
  :history [#CHANNEL]        recent messages, with their numbers
  :inbox [NAME]              someone's DMs from Allybot
  :people  :channels  :help  :quit
"""
    + console_forms.HELP
    + "\n"
    + sim_controls.HELP
)


class _EventBase(TypedDict):
    event_id: str
    actor: UserRef
    occurred_at: datetime
    actor_profile: Profile


_MENTION = re.compile(r"(?<![\w<])@([a-z][\w.-]*)")


class ConsoleSession:
    def __init__(
        self, core: Allybot, db: Database, clock: Clock, out: Callable[[str], None], me: str
    ) -> None:
        self.core = core
        self.db = db
        self.clock = clock
        self.out = out
        self.me = me
        self.channel = "general"
        self._ws_id = 0
        self.pending_form: Form | None = None
        # What the platform would say about people's DND and status (`:dnd`, `:status`).
        self.presence: dict[str, Presence] = {}

    async def setup(self) -> None:
        self._ws_id = await self.core.services.directory.workspace_id(WS)
        async with self.db.transaction() as session:
            for name in world.CHANNELS:
                await sim.ensure_channel(session, self._ws_id, name)
            for handle in world.PEOPLE:
                await sim.ensure_channel(
                    session, self._ws_id, world.dm_channel(handle), is_direct=True
                )
        await self.core.services.directory.people(UserRef(WS, h) for h in world.PEOPLE)

    def workspace_id(self) -> int:
        return self._ws_id

    @property
    def prompt(self) -> str:
        where = "DM with allybot" if self.channel.startswith("dm-") else f"#{self.channel}"
        return f"{self.me}@{where}> "

    # ----- one line -------------------------------------------------------------------

    async def line(self, text: str) -> bool:
        """Handles one line; False when the session should end. While the database can't be
        reached it says so and goes on: the line can be typed again in a minute."""
        try:
            return await self._line(text)
        except DatabaseUnavailable:  # the core logged the outage once
            self.out(f"  {UNAVAILABLE}")
            return True

    async def _line(self, text: str) -> bool:
        text = text.strip()
        if not text or text.startswith("# "):
            return True
        try:
            if text.startswith(":"):
                return await self._control(text[1:])
            if text.startswith("/"):
                name, _, args = text[1:].partition(" ")
                await self._dispatch(
                    CommandInvoked(
                        **self._base(),
                        conversation=self._conversation(),
                        name=name,
                        text=self._mentions(args),
                    )
                )
            else:
                await self._post(text)
        finally:
            # What is waiting goes out once the database is back (`:quit` still quits).
            with contextlib.suppress(DatabaseUnavailable):
                await self.core.run_due()
        return True

    async def _post(self, text: str) -> None:
        async with self.db.transaction() as session:
            channel = await sim.ensure_channel(session, self._ws_id, self.channel)
            row = await sim.post(session, channel.id, self.me, text, self.clock.now())
        self.out(f"  [{self._label()}] #{row.id} {self.me}: {text}")
        normalised = self._mentions(text)
        bot = f"<@{world.BOT}>"
        addressed = self.channel.startswith("dm-") or normalised.lstrip().startswith(bot)
        if addressed:
            normalised = normalised.replace(bot, "", 1).strip()
        await self._dispatch(
            MessagePosted(
                **self._base(),
                message=MessageRef(self._conversation(), str(row.id)),
                text=normalised,
                addressed_to_bot=addressed,
            )
        )

    async def _control(self, text: str) -> bool:
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        if not words:
            self.out(CONTROLS)
            return True
        verb, args = words[0].lower(), words[1:]
        if verb in ("quit", "exit", "q"):
            return False
        if verb == "help":
            self.out(CONTROLS)
        elif verb == "as":
            self._switch_person(args)
        elif verb == "in":
            self._switch_channel(args)
        elif verb == "people":
            for p in world.PEOPLE.values():
                kind = " (bot)" if p.is_bot else ""
                self.out(f"  @{p.handle}: {p.name}, {p.tz}{kind}")
        elif verb == "channels":
            self.out("  " + "  ".join(f"#{c}" for c in world.CHANNELS))
        elif verb in ("react", "unreact"):
            await self._react(args, added=verb == "react")
        elif verb == "thank":
            await self._thank(args)
        elif verb in console_forms.VERBS:
            await console_forms.control(self, verb, args)
        elif verb in sim_controls.VERBS:
            await sim_controls.control(self, verb, args)
        elif verb == "history":
            name = args[0].lstrip("#") if args else self.channel
            await self._show(name)
        elif verb == "inbox":
            handle = (args[0] if args else self.me).lstrip("@")
            await self._show(world.dm_channel(handle))
        else:
            self.out(f"  Unknown control ':{verb}'. Type :help for the list.")
        return True

    def _switch_person(self, args: list[str]) -> None:
        handle = args[0].lstrip("@").lower() if args else ""
        person = world.PEOPLE.get(handle)
        if person is None or person.is_bot:
            humans = ", ".join(h for h, p in world.PEOPLE.items() if not p.is_bot)
            self.out(f"  There's no person called '{handle}'. Try one of: {humans}.")
            return
        if self.channel.startswith("dm-"):
            self.channel = world.dm_channel(handle)
        self.me = handle
        self.out(f"  You are now {person.name} (@{handle}).")

    def _switch_channel(self, args: list[str]) -> None:
        target = args[0].lower() if args else ""
        if target in ("@allybot", "dm", "@" + world.BOT):
            self.channel = world.dm_channel(self.me)
        elif target.lstrip("#") in world.CHANNELS:
            self.channel = target.lstrip("#")
        else:
            self.out(
                f"  No channel '{target}'. Channels: "
                + ", ".join(f"#{c}" for c in world.CHANNELS)
                + ", or @allybot for your DM."
            )
            return
        self.out(f"  Now in {self._label()}.")

    async def _message(self, number: str) -> tuple[MessageRef, UserRef] | None:
        if number == "last":
            async with self.db.transaction() as session:
                here = await sim.ensure_channel(session, self._ws_id, self.channel)
                people = [
                    m for m in await sim.history(session, here.id, self.me) if m.author != world.BOT
                ]
            if not people:
                self.out("  Nobody has posted here yet.")
                return None
            number = str(people[-1].id)
        try:
            # "²".isdigit() is true but int("²") raises: the strict helper, with a bound.
            message_id = whole_number(number, 1, MAX_MESSAGE_ID, what="A message number")
        except UsageError:
            self.out(f"  '{number}' is not a message number; :history shows them.")
            return None
        async with self.db.transaction() as session:
            row = await sim.get_message(session, message_id)
            channel = None if row is None else await sim.channel_of(session, row)
        if row is None or channel is None or row.visible_to not in (None, self.me):
            self.out(f"  There's no message #{number}; :history shows them.")
            return None
        kind = ConversationKind.DIRECT if channel.is_direct else ConversationKind.CHANNEL
        conv = ConversationRef(WS, channel.name, kind)
        return MessageRef(conv, str(row.id)), UserRef(WS, row.author)

    async def _react(self, args: list[str], *, added: bool) -> None:
        if len(args) != 2:
            self.out("  Usage: :react N EMOJI (e.g. :react 3 clap)")
            return
        found = await self._message(args[0])
        if found is None:
            return
        message, author = found
        emoji = args[1].strip(":")
        async with self.db.transaction() as session:
            changed = await sim.set_reaction(
                session, int(message.id), self.me, emoji, present=added
            )
        if not changed:
            state = "already reacted" if added else "haven't reacted"
            self.out(f"  You {state} with :{emoji}: on #{message.id}.")
            return
        verb = "reacted" if added else "removed"
        self.out(f"  {self.me} {verb} :{emoji}: on #{message.id}")
        await self._dispatch(
            ReactionChanged(
                **self._base(),
                message=message,
                reaction=emoji,
                added=added,
                message_author=author,
            )
        )

    async def _thank(self, args: list[str]) -> None:
        if not args:
            self.out("  Usage: :thank N REASON (e.g. :thank 3 for the clear answer #helpful)")
            return
        found = await self._message(args[0])
        if found is None:
            return
        message, author = found
        await self._dispatch(
            MessageActionInvoked(
                **self._base(),
                action="give_kudos",
                message=message,
                message_author=author,
                inputs={"reason": self._mentions(" ".join(args[1:]))},
            )
        )

    async def _show(self, channel: str) -> None:
        async with self.db.transaction() as session:
            row = await sim.ensure_channel(
                session, self._ws_id, channel, is_direct=channel.startswith("dm-")
            )
            messages = await sim.history(session, row.id, self.me)
            lines = []
            for m in messages:
                reactions = await sim.reactions_on(session, m.id)
                suffix = "  " + " ".join(f":{r}: {u}" for r, u in reactions) if reactions else ""
                head, *rest = m.text.splitlines() or [""]
                lines.append(f"  #{m.id} {m.author}: {head}{suffix}")
                lines += [f"      {line}" for line in rest]
        self.out("\n".join(lines) if lines else "  (no messages)")

    async def _dispatch(self, event: Event) -> None:
        reply = await self.core.handle(event)
        if reply is not None:
            text = render(reply.message)
            head, *rest = text.splitlines() or [""]
            self.out("\n".join([f"  [only you] Allybot: {head}", *(f"      {r}" for r in rest)]))
            console_forms.show_reply(self, reply)

    # Used by adapters/console/forms.py.
    dispatch = _dispatch

    def event_base(self) -> _EventBase:
        return self._base()

    def conversation(self) -> ConversationRef:
        return self._conversation()

    def mention_tokens(self, text: str) -> str:
        return self._mentions(text)

    async def find_message(self, number: str) -> tuple[MessageRef, UserRef] | None:
        return await self._message(number)

    def port_buttons(self, number: int) -> tuple[Button, ...]:
        port = self.core.ports.get(Platform.CONSOLE)
        return port.buttons.get(number, ()) if isinstance(port, ConsolePort) else ()

    # ----- helpers --------------------------------------------------------------------

    def _base(self) -> _EventBase:
        person = world.PEOPLE[self.me]
        return {
            "event_id": uuid.uuid4().hex,
            "actor": UserRef(WS, self.me),
            "occurred_at": self.clock.now(),
            "actor_profile": Profile(display_name=person.name, tz=person.tz, is_bot=False),
        }

    def _conversation(self) -> ConversationRef:
        kind = (
            ConversationKind.DIRECT if self.channel.startswith("dm-") else ConversationKind.CHANNEL
        )
        return ConversationRef(WS, self.channel, kind)

    def _label(self) -> str:
        return "DM with allybot" if self.channel.startswith("dm-") else f"#{self.channel}"

    @staticmethod
    def _mentions(text: str) -> str:
        """`@bo` -> `<@bo>` for people who exist; anything else stays as typed."""
        return _MENTION.sub(
            lambda m: f"<@{m.group(1)}>" if m.group(1) in world.PEOPLE else m.group(0), text
        )


async def run_console(
    settings: Settings,
    *,
    script: Path | None = None,
    as_user: str | None = None,
    migrate: bool = True,
    clock: Clock | None = None,
    out: Callable[[str], None] = print,
) -> int:
    if not settings.admins:  # in the simulated workspace, Ana runs the program
        settings = settings.model_copy(update={"admins": [world.ADMIN]})
    lines: list[str] | None = None
    if script is not None:
        try:
            lines = (await asyncio.to_thread(script.read_text, encoding="utf-8")).splitlines()
        except OSError as exc:
            print(
                f"allybot console: can't read the script {script}: {exc.strerror}", file=sys.stderr
            )
            return 2
    clock = clock or ShiftedClock()
    db = await open_database(settings, migrate=migrate)
    try:
        core = bootstrap(settings, db, {}, clock)
        session = ConsoleSession(core, db, clock, out, (as_user or world.ADMIN).lower())
        core.add_port(
            ConsolePort(
                db,
                clock,
                session.workspace_id,
                out,
                files_dir=settings.data_dir / "exports",
                presence=session.presence,
            )
        )
        await session.setup()
        if session.me not in world.PEOPLE or world.PEOPLE[session.me].is_bot:
            out(f"No person called '{session.me}'; starting as {world.ADMIN}.")
            session.me = world.ADMIN
        if lines is not None:
            for raw in lines:
                if raw.startswith("# "):
                    out(raw)
                    continue
                if raw.strip():
                    out(f"{session.prompt}{raw}")
                if not await session.line(raw):
                    break
            return 0
        out(f"Allybot console: a simulated workspace '{world.WORKSPACE}'. Type :help for help.")
        await _interactive(session)
        return 0
    finally:
        await db.dispose()


async def _interactive(session: ConsoleSession) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    while True:
        try:
            line = await asyncio.to_thread(input, session.prompt)
        except EOFError:
            print()
            return
        if not await session.line(line):
            return
