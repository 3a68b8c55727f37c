"""Nudges on Slack end to end, on SQLite and PostgreSQL: signed requests into bolt, Web API
calls into the local fake. A campaign DM with its share links and buttons, "Shared it", a night
nudge held until the morning, and a request from another team approved by button."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio

from bot.clock import ManualClock
from tests.fakes import FakeSlackApi
from tests.slack_support import SlackSystem, start_slack
from tests.test_ambassadors_slack import buttons, press


@pytest_asyncio.fixture
async def slack(
    db_url: str, fake_slack: FakeSlackApi, clock: ManualClock
) -> AsyncIterator[SlackSystem]:
    async for system in start_slack(db_url, fake_slack, clock):
        yield system


def nudges_to(slack: SlackSystem, user: str) -> list[dict[str, object]]:
    return [
        m
        for m in slack.sent("chat.postMessage", channel=user)
        if "blocks" in m and "nudge:stop" in json.dumps(m["blocks"])
    ]


async def test_campaign_dm_shared_it_quiet_hours_and_an_approved_request(
    slack: SlackSystem, clock: ManualClock
) -> None:
    await slack.command("office add Paris tz Europe/Paris")
    for user in ("U1", "U2"):  # Ana in Paris (11:00 now), Bo in New York (05:00 now)
        await slack.command(f"ambassador add <@{user}> Paris")
        await slack.command("ambassador interests design", user=user)
        ack = await slack.command("nudges on", user=user)
        assert "Nudges are on" in ack["text"]
    ack = await slack.command('content add ftp://example.com/a "A post"')
    assert "isn't a web link" in ack["text"]
    ack = await slack.command(
        'content add https://example.com/a?x=1 "A post" "Worth a read <!channel>" for: design'
    )
    assert "Added C-1" in ack["text"]
    await slack.deliver()
    (dm,) = nudges_to(slack, "U1")
    blocks = json.dumps(dm["blocks"])
    assert (
        "<https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fexample.com%2Fa%3Fx%3D1|LinkedIn>"
        in blocks
    )
    assert "&lt;!channel&gt;" in blocks and "<!channel>" not in blocks  # user text escaped
    ids = [b["action_id"] for b in buttons(dm)]
    assert ids == ["nudge:shared", "nudge:skip", "nudge:snooze", "nudge:snooze", "nudge:stop"]
    assert nudges_to(slack, "U2") == []  # 05:00 in New York: it waits

    shared = buttons(dm)[0]
    resp = await slack.action(press("nudge:shared", shared["value"], "U1", "t-shared"))
    assert resp.status == 200
    await slack.deliver()
    assert any(
        "Thanks for sharing C-1" in m["text"] for m in slack.sent("chat.postEphemeral", user="U1")
    )
    assert "You shared it" in json.dumps(slack.sent("chat.update")[-1]["blocks"])

    clock.set(datetime(2026, 11, 18, 14, 0, tzinfo=UTC))  # 09:00 in New York
    await slack.deliver()
    assert len(nudges_to(slack, "U2")) == 1

    ack = await slack.command("ask-ambassadors “Share our hiring post” for: design", user="U3")
    assert "Request A-1 is with the community managers" in ack["text"]
    await slack.deliver()
    card = next(
        m for m in slack.sent("chat.postMessage", channel="U1") if "Request A-1" in json.dumps(m)
    )
    assert "this is not an ad channel" in json.dumps(card["blocks"])
    approve = buttons(card)[0]
    assert (approve["action_id"], approve["value"]) == ("nudge:approve", "A-1")
    resp = await slack.action(press("nudge:approve", "A-1", "U1", "t-approve"))
    assert resp.status == 200
    await slack.deliver()
    told = slack.sent("chat.postMessage", channel="U3")
    assert any("was approved by Ana" in m["text"] for m in told)
    status = await slack.command("nudges status")
    assert "requests: sent 0, queued 0, deferred 2" in status["text"]  # spacing: one a day
