"""One command grammar for every platform.

`/ally <subcommand> args` (Slack slash command, console) or the same words typed to the bot
(Teams, DMs, @mentions). Short aliases such as `/kudos` are subcommand names used as the slash
command itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.events import CommandInvoked
from bot.messages import Card, Code, Message, Reply, Section, rich

UMBRELLA = "ally"

Handler = Callable[[CommandInvoked, str], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    usage: str  # the arguments, e.g. "@person [@person ...] what for [#value ...]"
    summary: str
    examples: tuple[str, ...]
    handler: Handler


def split_command_line(slash: str, text: str) -> tuple[str, str]:
    """Returns (subcommand, arguments). `slash` is the slash command's name without the slash,
    or "" for words typed to the bot."""
    slash = slash.strip().lstrip("/").lower()
    text = text.strip()
    if slash and slash != UMBRELLA:
        return slash, text
    if text.lower().startswith("/"):  # "/ally kudos ..." or "/kudos ..." typed as a message
        head, _, rest = text[1:].partition(" ")
        return split_command_line(head, rest)
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


class Commands:
    def __init__(self) -> None:
        self._subs: dict[str, Subcommand] = {}

    def add(self, sub: Subcommand) -> None:
        self._subs[sub.name] = sub

    @property
    def names(self) -> list[str]:
        return list(self._subs)

    def get(self, name: str) -> Subcommand | None:
        return self._subs.get(name)

    async def dispatch(self, event: CommandInvoked, prefix: str) -> Reply:
        name, args = split_command_line(event.name, event.text)
        if name in ("", "help"):
            return Reply(message=self.help(prefix, args.strip().lower()))
        sub = self._subs.get(name)
        if sub is None:
            return Reply(message=self.unknown(name, prefix))
        return await sub.handler(event, args)

    def usage(self, name: str, prefix: str) -> str:
        sub = self._subs[name]
        lines = [f"Usage: {prefix}{sub.name} {sub.usage}".rstrip()]
        lines += [f"Example: {prefix}{example}" for example in sub.examples[:2]]
        return "\n".join(lines)

    def unknown(self, name: str, prefix: str) -> Message:
        close = difflib.get_close_matches(name, [*self._subs, "help"], n=1)
        hint = rich(" Did you mean ", Code(text=f"{prefix}{close[0]}"), "?") if close else ()
        return Message(
            text=rich(f"I don't know the command “{name}”.")
            + hint
            + rich(" ", Code(text=f"{prefix}help"), " lists everything I can do.")
        )

    def help(self, prefix: str, topic: str = "") -> Message:
        if topic and topic in self._subs:
            return Message(text=rich(self.usage(topic, prefix)))
        sections = []
        for sub in self._subs.values():
            sections.append(
                Section(
                    text=rich(
                        Code(text=f"{prefix}{sub.name} {sub.usage}".rstrip()),
                        f"\n{sub.summary}\n",
                        *(
                            part
                            for example in sub.examples
                            for part in ("e.g. ", Code(text=f"{prefix}{example}"), "\n")
                        ),
                    )
                )
            )
        text = "Here's what I can do: " + ", ".join(f"{prefix}{n}" for n in self._subs)
        return Message(
            text=rich(text),
            card=Card(
                title="Allybot commands",
                sections=tuple(sections),
                context=rich(f"{prefix}help COMMAND shows one command's usage."),
            ),
        )
