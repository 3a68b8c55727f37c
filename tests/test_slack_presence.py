"""Slack presence (Do Not Disturb and status) through the real slack_sdk client and the fake API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.port import SlackPort
from bot.ids import Platform, UserRef, WorkspaceRef
from bot.ports import Presence, PresenceReader
from tests.fakes import FakeSlackApi

WS = WorkspaceRef(Platform.SLACK, "T0001")


def _port(api: FakeSlackApi) -> SlackPort:
    return SlackPort(AsyncWebClient(token="xoxb-test-token", base_url=api.url))


async def test_presence_reads_dnd_and_status(fake_slack: FakeSlackApi) -> None:
    fake_slack.add_user("U1", "Ana")
    fake_slack.add_user("U2", "Bo")
    fake_slack.add_user("U3", "Cy")
    fake_slack.dnd["U2"] = int(time.time()) + 3600  # snoozed for an hour
    fake_slack.set_status("U3", "Vacationing", ":palm_tree:")
    port = _port(fake_slack)
    assert isinstance(port, PresenceReader)

    assert await port.presence(UserRef(WS, "U1")) == Presence()
    assert await port.presence(UserRef(WS, "U2")) == Presence(do_not_disturb=True)
    assert await port.presence(UserRef(WS, "U3")) == Presence(
        status_text="Vacationing", status_emoji="palm_tree"
    )
    assert [c.args["user"] for c in fake_slack.calls_to("dnd.info")] == ["U1", "U2", "U3"]


async def test_a_past_snooze_or_expired_status_does_not_count(fake_slack: FakeSlackApi) -> None:
    fake_slack.add_user("U2", "Bo")
    fake_slack.dnd["U2"] = int(time.time()) - 60
    fake_slack.set_status("U2", "Out of office", expiration=int(time.time()) - 60)
    assert await _port(fake_slack).presence(UserRef(WS, "U2")) == Presence()


async def test_presence_unknown_when_slack_refuses(fake_slack: FakeSlackApi) -> None:
    # A user Slack does not know: routing then goes by working hours alone.
    assert await _port(fake_slack).presence(UserRef(WS, "U404")) is None


def test_fake_dnd_info_matches_slacks_schema(reference: Path) -> None:
    """The fake's dnd.info answer has the shape Slack's OpenAPI spec gives for the method."""
    spec = json.loads(
        (reference / "slack" / "web-api-openapi" / "slack_web_openapi_v2.json").read_text()
    )
    schema = spec["paths"]["/dnd.info"]["get"]["responses"]["200"]["schema"]
    schema = {**schema, "definitions": spec["definitions"]}
    # The 2020 spec's shared definitions don't all pass a meta-schema check: validate only.
    validator = jsonschema.Draft4Validator(schema)
    api = FakeSlackApi()
    api.add_user("U2", "Bo")
    for snoozed in (None, int(time.time()) + 60):
        if snoozed is not None:
            api.dnd["U2"] = snoozed
        answer = api._dnd_info({"user": "U2"})
        assert [e.message for e in validator.iter_errors(answer)] == []
