"""`help-channel add|edit|remove` and `help-channels` (community managers)."""

from __future__ import annotations

import re

from bot.errors import UsageError, UserError
from bot.events import CommandInvoked
from bot.ids import ConversationRef
from bot.messages import ChannelName, Message, Reply, Rich, rich
from bot.ports import ChannelMembership
from bot.routing.context import DEFAULT_ASK, DEFAULT_ESCALATE_AFTER, Context
from bot.routing.permissions import MANAGE_CHANNELS
from bot.routing.topics import topic_name
from bot.work import Work
from bot.workspace import parse_channel
from store import routing as store
from store.models import RoutingHelpChannel

USAGE = (
    "add #channel [TOPIC ...] | edit #channel ask N | edit #channel escalate-after MINUTES | "
    "edit #channel topics TOPIC ... | remove #channel"
)
EXAMPLES = ("help-channel add #it-help vpn laptops", "help-channel edit #it-help escalate-after 20")
MAX_ASK = 10
MAX_ESCALATE = 24 * 60


class Channels:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.s

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        words = args.split()
        verb = words[0].lower() if words else ""
        if verb in ("", "list"):
            return await self.list(event, "")
        if verb not in ("add", "edit", "remove") or len(words) < 2:
            raise UsageError(f"Usage: help-channel {USAGE}\nExample: {EXAMPLES[0]}")
        channel = _channel(words[1], event)
        if channel is None:
            raise UsageError(
                "Name the channel with # (or say here), e.g. help-channel add #it-help"
            )
        rest = words[2:]
        if verb == "add":
            await self._check_member(ConversationRef(event.workspace, channel))
            return await self._add(event, channel, [topic_name(t) for t in rest])
        if verb == "remove":
            return await self._remove(event, channel)
        return await self._edit(event, channel, rest)

    async def _check_member(self, conversation: ConversationRef) -> None:
        """Outside any transaction (a platform call): a channel the bot can't read is refused."""
        port = self.s.ports.get(conversation.workspace.platform)
        if isinstance(port, ChannelMembership) and await port.bot_in_channel(conversation) is False:
            advice = (
                ", so I can't see its questions. Invite me first (/invite @Allybot in the "
                "channel), then run help-channel add again."
            )
            raise UserError(
                f"I'm not in #{conversation.id}{advice}",
                text=rich("I'm not in ", ChannelName(id=conversation.id), advice),
            )

    async def _add(self, event: CommandInvoked, channel: str, topics: list[str]) -> Reply:
        async def add(work: Work) -> Rich:
            await self._manager(work, event)
            for name in topics:
                await self.ctx.topic_by_name(work, name)  # an unknown topic is an error
            if await store.help_channel(work.session, work.ws_id, channel) is not None:
                why = " is a help channel already; change it with help-channel edit."
                raise UserError(f"#{channel}{why}", text=rich(ChannelName(id=channel), why))
            work.session.add(
                RoutingHelpChannel(
                    workspace_id=work.ws_id,
                    channel_id=channel,
                    topics=" ".join(dict.fromkeys(topics)),
                    ask_count=DEFAULT_ASK,
                    escalate_after=DEFAULT_ESCALATE_AFTER,
                    created_at=work.now,
                    updated_at=work.now,
                )
            )
            work.changed("routing_channels")
            scope = f" about {', '.join(topics)}" if topics else ""
            return rich(
                ChannelName(id=channel),
                f" is a help channel now: new questions there{scope} go to "
                f"{DEFAULT_ASK} allies at once, escalating after {DEFAULT_ESCALATE_AFTER} "
                "working minutes.",
            )

        return _said(await self.s.run(event, add))

    async def _edit(self, event: CommandInvoked, channel: str, rest: list[str]) -> Reply:
        field = rest[0].lower() if rest else ""
        values = rest[1:]
        if field not in ("ask", "escalate-after", "topics") or (
            field != "topics" and len(values) != 1
        ):
            raise UsageError(f"Usage: help-channel {USAGE}\nExample: {EXAMPLES[1]}")
        number = 0
        if field == "ask":
            number = _whole(values[0], 1, MAX_ASK, "ask N (how many allies are asked at once)")
        elif field == "escalate-after":
            number = _whole(values[0], 1, MAX_ESCALATE, "escalate-after MINUTES (working minutes)")
        topics = [topic_name(t) for t in values] if field == "topics" else []

        async def edit(work: Work) -> Rich:
            await self._manager(work, event)
            row = await store.help_channel(work.session, work.ws_id, channel)
            if row is None:
                why = " isn't a help channel; add it with help-channel add."
                raise UserError(f"#{channel}{why}", text=rich(ChannelName(id=channel), why))
            if field == "ask":
                row.ask_count = number
            elif field == "escalate-after":
                row.escalate_after = number
            else:
                for name in topics:
                    await self.ctx.topic_by_name(work, name)
                row.topics = " ".join(dict.fromkeys(topics))
            row.updated_at = work.now
            work.changed("routing_channels")
            return rich("Saved. ") + _describe(row)

        return _said(await self.s.run(event, edit))

    async def _remove(self, event: CommandInvoked, channel: str) -> Reply:
        async def remove(work: Work) -> Rich:
            await self._manager(work, event)
            if not await store.remove_help_channel(work.session, work.ws_id, channel):
                raise UserError(
                    f"#{channel} isn't a help channel.",
                    text=rich(ChannelName(id=channel), " isn't a help channel."),
                )
            work.changed("routing_channels")
            return rich(
                ChannelName(id=channel),
                " is no longer a help channel; open questions there stay open.",
            )

        return _said(await self.s.run(event, remove))

    async def list(self, event: CommandInvoked, args: str) -> Reply:
        async def read(work: Work) -> Rich:
            await work.person(event.actor, event.actor_profile)
            rows = await store.help_channels(work.session, work.ws_id)
            if not rows:
                return rich(
                    "No help channels yet. Community managers add them: help-channel add #channel"
                )
            text = rich("Help channels:")
            for row in rows:
                text += rich("\n• ") + _describe(row)
            return text

        return _said(await self.s.run(event, read))

    async def _manager(self, work: Work, event: CommandInvoked) -> None:
        actor = await work.person(event.actor, event.actor_profile)
        await self.ctx.roles.require(actor, MANAGE_CHANNELS, work.session)


def _channel(value: str, event: CommandInvoked) -> str | None:
    """A picked channel (<#C123|name>), here, a bare id, or "#name" as typed where channel ids
    are their names (the console); Slack sends picked channels in the first form."""
    if re.fullmatch(r"#[\w-]{1,80}", value):
        return value[1:]
    return parse_channel(value, event)


def _describe(row: RoutingHelpChannel) -> Rich:
    topics = row.topics.replace(" ", ", ") or "any topic"
    return rich(
        ChannelName(id=row.channel_id),
        f": {topics}; asks {row.ask_count} at once; escalates after "
        f"{row.escalate_after} working minutes",
    )


def _whole(value: str, low: int, high: int, usage: str) -> int:
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise UsageError(f"“{value}” is not a whole number from {low} to {high}; expected {usage}.")
    return int(value)


def _said(text: Rich) -> Reply:
    return Reply(message=Message(text=text))
