"""Channel messages as the core sees them: what is a new post, what is a thread reply, what is
neither. Help-channel routing stands on this; the payloads are Slack's and Microsoft's own
(tests/fixtures, origins in tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.inbound import from_event
from adapters.teams import inbound as teams
from bot.events import MessagePosted

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _slack(reference: Path, name: str) -> dict[str, Any]:
    path = reference / "slack" / "payloads" / "bolt-python" / name
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


def _posted(body: dict[str, Any]) -> MessagePosted:
    event = from_event(body, bot_user_id="UBOT", workspace_url=None)
    assert isinstance(event, MessagePosted)
    return event


def test_slack_top_level_post_is_not_a_reply(reference: Path) -> None:
    event = _posted(_slack(reference, "event_callback__message__channel.json"))
    assert event.message.id == "1596183880.004200"
    assert event.message.thread_id is None
    assert event.addressed_to_bot is False  # a help-channel question, not a command
    assert event.text == "Hello World!"


def test_slack_thread_parent_naming_itself_is_not_a_reply(reference: Path) -> None:
    body = _slack(reference, "event_callback__message__channel.json")
    body["event"]["thread_ts"] = body["event"]["ts"]
    assert _posted(body).message.thread_id is None


def test_slack_thread_reply_names_its_thread(reference: Path) -> None:
    event = _posted(_slack(reference, "event_callback__message__thread_reply_in_channel.json"))
    assert event.message.thread_id == "1726133698.626339"
    assert event.actor.id == "W222"


def test_slack_thread_broadcast_is_still_a_reply(reference: Path) -> None:
    event = _posted(_slack(reference, "event_callback__message__subtype_thread_broadcast.json"))
    assert event.message.thread_id == "1633663824.000500"


@pytest.mark.parametrize(
    "name",
    [
        "event_callback__message__subtype_message_changed.json",  # an edit
        "event_callback__message__subtype_bot_message.json",
        "event_callback__message__bot_with_bot_id.json",
    ],
)
def test_slack_edits_and_bots_are_not_questions(reference: Path, name: str) -> None:
    assert from_event(_slack(reference, name), bot_user_id="UBOT", workspace_url=None) is None


def test_slack_join_message_is_not_a_question(reference: Path) -> None:
    body = _slack(reference, "event_callback__message__channel.json")
    body["event"]["subtype"] = "channel_join"
    assert from_event(body, bot_user_id="UBOT", workspace_url=None) is None


# ----- Teams: channel posts arrive with the ChannelMessage.Read.Group permission ------------


def _teams_channel_post(reference: Path) -> dict[str, Any]:
    for path in sorted((reference / "teams" / "activities").rglob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        conv = body.get("conversation") if isinstance(body, dict) else None
        if (
            isinstance(conv, dict)
            and body.get("type") == "message"
            and conv.get("conversationType") == "channel"
            and isinstance(body.get("channelData"), dict)
            and body["channelData"].get("tenant")
        ):
            return copy.deepcopy(body)
    pytest.fail("no Teams channel message among the reference activities")


def _teams_event(body: dict[str, Any]) -> MessagePosted:
    env = teams.read_envelope(body, NOW)
    assert env is not None
    event = teams.message_event(env)
    assert isinstance(event, MessagePosted)
    return event


def test_teams_new_channel_post_is_not_a_reply(reference: Path) -> None:
    body = _teams_channel_post(reference)
    base = body["conversation"]["id"].split(";")[0]
    body["id"] = "1700000000001"
    body["conversation"]["id"] = f"{base};messageid=1700000000001"  # a new post: its own thread
    body.pop("replyToId", None)
    body["text"] = "How do I reset my VPN token?"
    body["entities"] = []
    event = _teams_event(body)
    assert event.message.thread_id is None
    assert event.message.conversation.id == base
    assert event.addressed_to_bot is False
    assert event.text == "How do I reset my VPN token?"


def test_teams_reply_in_a_thread_names_the_thread(reference: Path) -> None:
    body = _teams_channel_post(reference)
    base = body["conversation"]["id"].split(";")[0]
    body["id"] = "1700000000002"
    body["conversation"]["id"] = f"{base};messageid=1700000000001"
    body.pop("replyToId", None)
    body["entities"] = []
    assert _teams_event(body).message.thread_id == "1700000000001"
