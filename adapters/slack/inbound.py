"""Slack payloads -> core events. Only translation: what to do with them is the core's call."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.events import (
    ActionPressed,
    CommandInvoked,
    Event,
    HomeOpened,
    MemberJoined,
    MessagePosted,
    ReactionChanged,
)
from bot.ids import (
    ConversationKind,
    ConversationRef,
    MessageRef,
    Platform,
    UserRef,
    WorkspaceRef,
)

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

log = logging.getLogger(__name__)


def normalise_text(text: str) -> str:
    """Slack's escaped text -> the core's form: `<@U1|ana>` -> `<@U1>`, entities decoded.
    Channel links (`<#C1|name>`) and special mentions stay as they are."""
    text = _USER_MENTION.sub(lambda m: f"<@{m.group(1)}>", text)
    return html.unescape(text)


def team_id(body: Mapping[str, Any]) -> str | None:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        event = body.get("event") or {}
        team = event.get("team") or event.get("user_team")
    if not team:
        auths = body.get("authorizations") or [{}]
        team = auths[0].get("team_id")
    if not team:
        team = (body.get("user") or {}).get("team_id")
    return str(team) if team else None


def _nowhere(kind: object, what: str) -> None:
    """An event naming no place to answer in or point at (Slack always sends one): acted on,
    its reply would go nowhere and its job give up. It is acknowledged and ignored."""
    log.warning("ignored a Slack %s event without its %s", kind, what)


def _when(ts: str | float | int | None) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), UTC) if ts is not None else datetime.now(UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # out of datetime's range
        return datetime.now(UTC)


def _kind(channel_id: str, channel_type: str | None = None) -> ConversationKind:
    if channel_type == "im" or channel_id.startswith("D"):
        return ConversationKind.DIRECT
    return ConversationKind.CHANNEL


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    """Builds the message link Slack would give from chat.getPermalink, without a call."""
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def _command_channel_type(body: Mapping[str, Any]) -> str | None:
    return "im" if body.get("channel_name") == "directmessage" else None


def from_command(body: Mapping[str, Any]) -> CommandInvoked:
    ws = WorkspaceRef(Platform.SLACK, team_id(body) or "")
    channel = str(body.get("channel_id") or "")
    return CommandInvoked(
        # A slash command has no event id; the trigger id is unique per invocation.
        event_id=f"cmd:{body.get('trigger_id') or body.get('response_url') or ''}",
        actor=UserRef(ws, str(body.get("user_id") or "")),
        occurred_at=datetime.now(UTC),
        conversation=ConversationRef(
            ws,
            channel,
            _kind(channel, "im" if body.get("channel_name") == "directmessage" else None),
        ),
        name=str(body.get("command") or "").lstrip("/"),
        text=normalise_text(str(body.get("text") or "")),
        raw=body,
    )


def from_event(
    body: Mapping[str, Any], *, bot_user_id: str | None, workspace_url: str | None
) -> Event | None:
    """Translates an Events API envelope; None for what the core doesn't need to see."""
    event: Mapping[str, Any] = body.get("event") or {}
    ws = WorkspaceRef(Platform.SLACK, team_id(body) or "")
    event_id = str(body.get("event_id") or f"{event.get('type')}:{event.get('event_ts')}")
    when = _when(body.get("event_time") or event.get("event_ts"))
    kind = event.get("type")
    user = event.get("user")
    if kind in ("reaction_added", "reaction_removed"):
        item = event.get("item") or {}
        if item.get("type") != "message" or not user:
            return None
        channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
        if not (channel and ts):
            _nowhere(kind, "item.channel and item.ts")
            return None
        conv = ConversationRef(ws, channel, _kind(channel))
        author = event.get("item_user")
        return ReactionChanged(
            event_id=event_id,
            actor=UserRef(ws, str(user)),
            occurred_at=when,
            message=MessageRef(conv, ts, link=permalink(workspace_url, channel, ts)),
            reaction=str(event.get("reaction") or "").split("::")[0],  # drop skin tone
            added=kind == "reaction_added",
            message_author=UserRef(ws, str(author)) if author else None,
            raw=body,
        )
    if kind in ("message", "app_mention"):
        # Edits, deletions, joins and bots' own posts are not people talking to us.
        if event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return None
        if event.get("bot_id") or not user or user == bot_user_id:
            return None
        channel, ts = str(event.get("channel") or ""), str(event.get("ts") or "")
        if not (channel and ts):
            _nowhere(kind, "channel and ts")
            return None
        conv = ConversationRef(ws, channel, _kind(channel, event.get("channel_type")))
        text = normalise_text(str(event.get("text") or ""))
        mentioned = bool(bot_user_id) and f"<@{bot_user_id}>" in text
        if bot_user_id:
            text = re.sub(rf"^\s*<@{re.escape(bot_user_id)}>[\s:,]*", "", text)
        addressed = conv.kind is ConversationKind.DIRECT or kind == "app_mention" or mentioned
        if kind == "message" and mentioned and conv.kind is not ConversationKind.DIRECT:
            return None  # the app_mention event for the same message carries it
        return MessagePosted(
            event_id=event_id,
            actor=UserRef(ws, str(user)),
            occurred_at=when,
            message=MessageRef(
                conv,
                ts,
                # A thread's parent carries its own ts as thread_ts: it is not a reply.
                thread_id=str(thread)
                if (thread := event.get("thread_ts")) and str(thread) != ts
                else None,
                link=permalink(workspace_url, channel, ts),
            ),
            text=text,
            addressed_to_bot=addressed,
            raw=body,
        )
    if kind == "app_home_opened" and user and event.get("tab", "home") == "home":
        return HomeOpened(
            event_id=event_id, actor=UserRef(ws, str(user)), occurred_at=when, raw=body
        )
    if kind == "member_joined_channel" and user:
        channel = str(event.get("channel") or "")
        if not channel:
            _nowhere(kind, "channel")
            return None
        return MemberJoined(
            event_id=event_id,
            actor=UserRef(ws, str(user)),
            occurred_at=when,
            conversation=ConversationRef(ws, channel, _kind(channel, event.get("channel_type"))),
            raw=body,
        )
    return None


def from_block_action(body: Mapping[str, Any]) -> list[ActionPressed]:
    ws = WorkspaceRef(Platform.SLACK, team_id(body) or "")
    user = UserRef(ws, str((body.get("user") or {}).get("id") or ""))
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    conv = ConversationRef(ws, str(channel), _kind(str(channel))) if channel else None
    message_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get(
        "message_ts"
    )
    out = []
    for i, action in enumerate(body.get("actions") or []):
        out.append(
            ActionPressed(
                event_id=f"action:{body.get('trigger_id') or ''}:{action.get('action_ts')}:{i}",
                actor=user,
                occurred_at=_when(action.get("action_ts")),
                action_id=str(action.get("action_id") or ""),
                value=str(action.get("value") or ""),
                conversation=conv,
                message=MessageRef(conv, str(message_ts)) if conv and message_ts else None,
                raw=body,
            )
        )
    return out
