"""The loopback fakes work with the real slack_sdk and botbuilder clients, and can fail tests."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
from botbuilder.schema.teams import TeamsChannelAccount
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import (
    FakeBotConnector,
    FakeSlackApi,
    form_body,
    interactive_body,
    slack_signed_headers,
)
from tests.fakes import fixtures as _fixtures

# Re-exported so this module works whether or not conftest loads tests.fakes.fixtures (a
# module-level fixture simply overrides the conftest/plugin one of the same name).
fake_slack = _fixtures.fake_slack
fake_connector = _fixtures.fake_connector

TOKEN = "xoxb-test-token"
# Microsoft's documented inbound message (tests/fixtures/SOURCES.md).
REFERENCE_ACTIVITY = (
    Path(__file__).resolve().parent
    / "fixtures/teams/activities/msteams-docs/message__personal_full_inbound.json"
)


# ---------------------------------------------------------------------------------------- Slack


def client_for(fake: FakeSlackApi, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.url)


async def test_fixture_urls(fake_slack: FakeSlackApi, fake_connector: FakeBotConnector) -> None:
    assert fake_slack.url == f"http://127.0.0.1:{fake_slack.port}/api/"
    assert fake_connector.url == f"http://127.0.0.1:{fake_connector.port}/"


async def test_slack_sdk_round_trip(fake_slack: FakeSlackApi) -> None:
    client = client_for(fake_slack)
    fake_slack.add_user("U123", "ada", tz="Europe/Paris", real_name="Ada Lovelace")

    auth = await client.auth_test()
    assert auth["team_id"] == "T0001"
    assert auth["user_id"] == "UBOT"
    assert auth["bot_id"] == "BBOT"
    assert auth["is_enterprise_install"] is False

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Kudos* to <@U123>"}}]
    first = await client.chat_postMessage(channel="C1", text="kudos!", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="again", thread_ts=first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == blocks
    assert first["message"]["user"] == "UBOT"
    assert float(second["ts"]) > float(first["ts"])

    opened = await client.conversations_open(users="U123,U456")
    assert opened["channel"]["id"] == "DU123"

    info = await client.users_info(user="U123")
    assert info["user"]["tz"] == "Europe/Paris"
    assert info["user"]["profile"]["real_name"] == "Ada Lovelace"
    assert (await client.users_info(user="UBOT"))["user"]["is_bot"] is True

    with pytest.raises(SlackApiError) as excinfo:
        await client.users_info(user="UNOPE")
    assert excinfo.value.response["error"] == "user_not_found"

    link = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert (
        link["permalink"]
        == f"https://example.slack.com/archives/C1/p{first['ts'].replace('.', '')}"
    )

    posts = fake_slack.calls_to("chat.postMessage")
    assert [c.args["text"] for c in posts] == ["kudos!", "again"]
    assert posts[0].args["blocks"] == blocks  # decoded, not a JSON string
    assert posts[1].args["thread_ts"] == first["ts"]
    assert posts[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert fake_slack.calls_to("conversations.open")[0].args["users"] == "U123,U456"
    # users.info is a GET with query parameters on the wire
    assert [c.http_verb for c in fake_slack.calls_to("users.info")] == ["GET"] * 3
    assert [c.method for c in fake_slack.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
        "conversations.open",
        "users.info",
        "users.info",
        "users.info",
        "chat.getPermalink",
    ]


async def test_form_encoded_bodies_are_decoded(fake_slack: FakeSlackApi) -> None:
    blocks = [{"type": "divider"}]
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            f"{fake_slack.url}chat.postMessage",
            data={"channel": "C9", "text": "42", "blocks": json.dumps(blocks)},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        body = await resp.json()
    assert body["ok"] is True
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.args == {"channel": "C9", "text": "42", "blocks": blocks}


async def test_views_and_files(fake_slack: FakeSlackApi) -> None:
    client = client_for(fake_slack)
    view = {"type": "home", "blocks": [{"type": "divider"}]}
    published = await client.views_publish(user_id="U1", view=view)
    assert published["view"]["id"].startswith("V")
    assert published["view"]["blocks"] == view["blocks"]
    uploaded = await client.files_upload_v2(channel="C1", content="hello", filename="a.txt")
    assert uploaded["ok"] is True
    methods = [c.method for c in fake_slack.calls]
    assert methods[1:] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert fake_slack.calls_to("upload")[0].args["content"] == b"hello"


async def test_bad_or_missing_token(fake_slack: FakeSlackApi) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        await client_for(fake_slack, "xoxb-wrong").chat_postMessage(channel="C1", text="hi")
    assert excinfo.value.response["error"] == "invalid_auth"
    async with aiohttp.ClientSession() as session:
        resp = await session.post(f"{fake_slack.url}auth.test")
        assert await resp.json() == {"ok": False, "error": "not_authed"}
    assert len(fake_slack.calls) == 2


async def test_fail_next_and_rate_limit_retry(
    fake_slack: FakeSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler sleeps Retry-After + random.random() seconds; pin the jitter to keep this fast.
    # (builtin_async_handlers does `import random`, so patch the shared module attribute.)
    monkeypatch.setattr(random, "random", lambda: 0.05)
    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=0)
    client = AsyncWebClient(
        token=TOKEN, base_url=fake_slack.url, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    started = time.monotonic()
    resp = await client.chat_postMessage(channel="C1", text="retry me")
    assert resp["ok"] is True
    assert time.monotonic() - started < 1.0
    calls = fake_slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response == {"ok": False, "error": "ratelimited"}

    # Without a retry handler the injected failure surfaces, then the method recovers.
    fake_slack.fail_next("chat.update", "message_not_found", times=2)
    plain = client_for(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="message_not_found"):
            await plain.chat_update(channel="C1", ts="1.2", text="x")
    assert (await plain.chat_update(channel="C1", ts="1.2", text="x"))["ts"] == "1.2"


async def test_wait_for_returns_and_times_out(fake_slack: FakeSlackApi) -> None:
    client = client_for(fake_slack)
    await client.chat_postMessage(channel="C1", text="one")
    got = await fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.args["text"] == "one")
    assert len(got) == 1
    with pytest.raises(
        AssertionError, match=r"(?s)chat\.delete.*Recorded calls \(1\).*chat\.postMessage"
    ):
        await fake_slack.wait_for("chat.delete", timeout=0.05)
    fake_slack.reset()
    assert fake_slack.calls == []
    assert "UBOT" in fake_slack.users


def test_signing_helpers() -> None:
    body = form_body({"command": "/kudos", "text": "<@U1> thanks", "user_id": "U2"})
    headers = slack_signed_headers("s3cret", body, content_type="application/x-www-form-urlencoded")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    old = slack_signed_headers("s3cret", body, timestamp=1, content_type="text/plain")
    assert not verifier.is_valid_request(body, old)  # stale timestamp
    payload = interactive_body({"type": "block_actions", "actions": [{"value": "a b&c"}]})
    assert payload.startswith("payload=%7B%22type%22")


# ---------------------------------------------------------------------------------------- Teams


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"echo: {turn_context.activity.text}"))


class _Config:
    APP_ID = ""
    APP_PASSWORD = ""


async def _serve_bot(bot: ActivityHandler) -> tuple[web.AppRunner, str]:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config()))

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"


@pytest_asyncio.fixture
async def echo_bot_url() -> AsyncIterator[str]:
    runner, url = await _serve_bot(EchoBot())
    try:
        yield url
    finally:
        await runner.cleanup()


def teams_message(service_url: str, text: str) -> dict[str, Any]:
    activity: dict[str, Any] = json.loads(REFERENCE_ACTIVITY.read_text())
    activity["serviceUrl"] = service_url
    activity["text"] = text
    return activity


async def post_activity(url: str, activity: dict[str, Any]) -> int:
    async with aiohttp.ClientSession() as session:
        resp = await session.post(url, json=activity)  # no Authorization header: auth is off
        await resp.read()
        return resp.status


async def test_botbuilder_reply_reaches_fake_connector(
    fake_connector: FakeBotConnector, echo_bot_url: str
) -> None:
    activity = teams_message(fake_connector.url, "hello")
    assert await post_activity(echo_bot_url, activity) == 201

    (call,) = await fake_connector.wait_for()
    conv_id = activity["conversation"]["id"]
    assert call.kind == "reply"
    assert call.verb == "POST"
    assert call.conversation_id == conv_id
    assert call.reply_to_id == activity["id"]
    assert (
        call.path == f"/v3/conversations/{conv_id.replace(':', '%3A')}/activities/{activity['id']}"
    )
    assert call.body is not None
    assert call.body["text"] == "echo: hello"
    assert call.body["replyToId"] == activity["id"]
    assert call.body["from"]["id"] == activity["recipient"]["id"]
    assert call.body["recipient"]["id"] == activity["from"]["id"]
    assert "Authorization" not in call.headers
    assert fake_connector.activities == [call.body]


async def test_connector_path_prefix_and_injected_failure(echo_bot_url: str) -> None:
    async with FakeBotConnector(path_prefix="amer") as connector:
        assert connector.url.endswith("/amer/")
        connector.fail_next(403)
        activity = teams_message(connector.url, "hi")
        # The bot's send fails; CloudAdapter has no on_turn_error by default, so the
        # ErrorResponseException escapes adapter.process() and aiohttp answers 500.
        assert await post_activity(echo_bot_url, activity) == 500
        (failed,) = await connector.wait_for()
        assert failed.status == 403
        assert failed.response["error"]["code"] == "BotNotInConversationRoster"
        assert failed.path.startswith("/amer/v3/conversations/a%3A")
        # The next turn succeeds and still keeps the serviceUrl's path prefix.
        assert await post_activity(echo_bot_url, teams_message(connector.url, "again")) == 201
        calls = await connector.wait_for(count=2)
        assert calls[1].status == 200
        assert calls[1].text == "echo: again"


class RosterBot(TeamsActivityHandler):
    """Looks up the sender, opens a proactive 1:1 chat and edits its reply."""

    def __init__(self) -> None:
        self.member: TeamsChannelAccount | None = None
        self.missing_error: str | None = None
        self.new_conversation_id: str | None = None

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self.member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
        try:
            await TeamsInfo.get_member(turn_context, "29:nobody")
        except Exception as exc:  # msrest ErrorResponseException
            self.missing_error = type(exc).__name__
        sent = await turn_context.send_activity("working")
        assert sent is not None
        await turn_context.update_activity(Activity(type="message", id=sent.id, text="done"))
        tenant_id = (activity.channel_data or {}).get("tenant", {}).get("id")
        params = ConversationParameters(
            is_group=False,
            bot=activity.recipient,
            members=[ChannelAccount(id=activity.from_property.id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )

        async def on_created(ctx: TurnContext) -> None:
            self.new_conversation_id = ctx.activity.conversation.id
            await ctx.send_activity("hi in private")

        await turn_context.adapter.create_conversation(
            "",
            on_created,
            params,
            channel_id=activity.channel_id,
            service_url=activity.service_url,
        )


async def test_botbuilder_members_update_and_create_conversation(
    fake_connector: FakeBotConnector,
) -> None:
    bot = RosterBot()
    runner, url = await _serve_bot(bot)
    try:
        activity = teams_message(fake_connector.url, "roster")
        sender = activity["from"]["id"]
        fake_connector.add_member(sender, "Megan Bowen", aad_object_id="aad-1", email="m@x.io")
        assert await post_activity(url, activity) == 201
    finally:
        await runner.cleanup()

    assert bot.member is not None
    assert bot.member.name == "Megan Bowen"
    assert bot.member.email == "m@x.io"
    assert bot.member.aad_object_id == "aad-1"
    assert bot.missing_error == "ErrorResponseException"
    kinds = [c.kind for c in fake_connector.calls]
    assert kinds == [
        "get_member",
        "get_member",
        "reply",
        "update",
        "create_conversation",
        "reply",
    ]
    get_missing = fake_connector.calls[1]
    assert get_missing.status == 404
    assert get_missing.member_id == "29:nobody"
    assert "/members/29%3Anobody" in get_missing.path
    update = fake_connector.calls_of("update")[0]
    assert update.verb == "PUT"
    assert update.activity_id == fake_connector.calls_of("reply")[0].response["id"]
    assert bot.new_conversation_id == "a:new-conv-1"
    # Inside create_conversation's callback, send_activity *replies* to the synthetic create
    # activity, whose id is a random uuid4 unless the connector answered an activityId.
    first_dm = fake_connector.calls[-1]
    assert first_dm.conversation_id == "a:new-conv-1"
    assert first_dm.reply_to_id is not None and len(first_dm.reply_to_id) == 36
    assert first_dm.text == "hi in private"
    create = fake_connector.calls_of("create_conversation")[0]
    assert create.body is not None
    assert create.body["members"] == [{"id": activity["from"]["id"]}]
    tenant = activity["channelData"]["tenant"]["id"]
    assert create.body["channelData"] == {"tenant": {"id": tenant}}
    assert create.body["tenantID"] == tenant  # msrest key is "tenantID", not "tenantId"
    assert first_dm.headers["x-ms-conversation-id"] == "a:new-conv-1"


async def test_connector_wait_for_times_out(fake_connector: FakeBotConnector) -> None:
    with pytest.raises(AssertionError, match=r"(?s)timed out.*Recorded calls \(0\).*\(none\)"):
        await fake_connector.wait_for(timeout=0.05)
