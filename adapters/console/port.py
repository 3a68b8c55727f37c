"""The console side of the port: 'sends' by storing and printing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from adapters.console import world
from adapters.console.render import render
from bot.clock import Clock
from bot.ids import MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import (
    Button,
    FileAttachment,
    Message,
    Private,
    Target,
    ToConversation,
    ToUser,
)
from bot.ports import Capabilities, Presence, Sent, UserInfo
from store import Database
from store import console as sim


class ConsolePort:
    platform = Platform.CONSOLE
    capabilities = Capabilities(
        ephemeral=True, reactions_on_any_message=True, command_prefix="/ally "
    )

    def __init__(
        self,
        db: Database,
        clock: Clock,
        workspace_id: Callable[[], int],
        out: Callable[[str], None],
        *,
        files_dir: Path | None = None,
        presence: dict[str, Presence] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._workspace_id = workspace_id
        self._out = out
        self._files_dir = files_dir or Path("data") / "exports"
        # Buttons of the messages sent in this session, for `:press N BUTTON`.
        self.buttons: dict[int, tuple[Button, ...]] = {}
        self._presence = presence if presence is not None else {}

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        text = render(message)
        visible_to = None
        if isinstance(target, ToConversation):
            channel, label = target.conversation.id, f"#{target.conversation.id}"
            if target.thread_id:
                label += f", thread of #{target.thread_id}"
        elif isinstance(target, ToUser):
            channel, label = world.dm_channel(target.user.id), f"DM to {target.user.id}"
        elif isinstance(target, Private):
            channel = target.conversation.id
            visible_to = target.user.id
            label = f"only {target.user.id} sees, in {_label(channel)}"
        else:
            raise TypeError(f"unsupported target {target!r}")
        async with self._db.transaction() as session:
            row = await sim.ensure_channel(
                session, self._workspace_id(), channel, is_direct=channel.startswith("dm-")
            )
            posted = await sim.post(
                session, row.id, world.BOT, text, self._clock.now(), visible_to=visible_to
            )
        self._out(_format(label, posted.id, text))
        if message.card is not None and message.card.buttons:
            self.buttons[posted.id] = message.card.buttons
        if message.file is not None:
            path = await self._write(message.file)
            self._out(f"      [file] {path}")
        return None if visible_to else Sent(channel, str(posted.id))

    async def update(self, workspace: WorkspaceRef, sent: Sent, message: Message) -> None:
        text = render(message)
        async with self._db.transaction() as session:
            row = await sim.get_message(session, int(sent.message_id))
            if row is not None:
                row.text = text
        self._out(_format(f"{_label(sent.conversation_id)}, edited", int(sent.message_id), text))

    async def publish_home(self, user: UserRef, message: Message) -> None:
        # No home view here (capabilities.home_tab is False): `home` is a command instead.
        raise NotImplementedError

    async def _write(self, file: FileAttachment) -> Path:
        """The console's "upload": the file is written under DATA_DIR/exports."""
        path = self._files_dir / Path(file.name).name

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.content, encoding="utf-8")

        await asyncio.to_thread(write)
        return path.resolve()

    async def message_text(self, message: MessageRef) -> str | None:
        if not message.id.isdigit():
            return None
        async with self._db.transaction() as session:
            row = await sim.get_message(session, int(message.id))
        return row.text if row is not None else None

    async def presence(self, user: UserRef) -> Presence | None:
        """What `:dnd` and `:status` set for this person (nothing set: available)."""
        return self._presence.get(user.id, Presence())

    async def user_info(self, user: UserRef) -> UserInfo | None:
        person = world.PEOPLE.get(user.id)
        if person is None:
            return None
        return UserInfo(display_name=person.name, tz=person.tz, is_bot=person.is_bot)


def _label(channel: str) -> str:
    return f"DM with {channel[3:]}" if channel.startswith("dm-") else f"#{channel}"


def _format(label: str, number: int, text: str) -> str:
    head, *rest = text.splitlines() or [""]
    lines = [f"  [{label}] #{number} Allybot: {head}"]
    lines += [f"      {line}" for line in rest]
    return "\n".join(lines)
