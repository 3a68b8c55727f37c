"""Teams end to end: activities POSTed into the real botbuilder stack, Bot Connector calls into a
local fake, the real core and store on SQLite in between."""

from __future__ import annotations

import copy
import itertools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select

from adapters.runtime import Runtime, build_runtime
from adapters.teams import TeamsAdapter, inbound
from adapters.teams.addresses import Route
from bot.bootstrap import bootstrap
from bot.clock import ManualClock
from bot.events import ActionPressed
from bot.ids import ConversationKind, ConversationRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, ToConversation, ToUser, rich
from bot.ports import DeliveryError
from bot.settings import Settings
from store import Database
from store.models import Kudos, ProcessedEvent
from tests.fakes import FakeBotConnector
from tests.helpers import deliver_all

# Microsoft's published activities, copied into tests/fixtures (see its SOURCES.md). Collected at
# import time for parametrize, so this path cannot come from the `reference` fixture.
ACTIVITIES = Path(__file__).resolve().parent / "fixtures" / "teams" / "activities"

TENANT = "tenant-1"
BOT = "28:allybot-app"
ANA, BO, CY = "29:ana", "29:bo", "29:cy"
NAMES = {ANA: "Ana", BO: "Bo", CY: "Cy"}
PERSONAL = {ANA: "a:dm-ana", BO: "a:dm-bo", CY: "a:dm-cy"}
GENERAL = "19:general@thread.tacv2"
WS = WorkspaceRef(Platform.TEAMS, TENANT)
CARD = "application/vnd.microsoft.card.adaptive"

_ids = itertools.count(1)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class TeamsSystem:
    runtime: Runtime
    connector: FakeBotConnector
    url: str
    http: aiohttp.ClientSession

    async def post(self, activity: Any, **kw: Any) -> tuple[int, str]:
        if "data" not in kw:
            kw["json"] = activity
        resp = await self.http.post(self.url, **kw)  # no Authorization header: auth is off
        return resp.status, await resp.text()

    async def send(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        """POSTs the activity and returns what the bot answered in the turn."""
        before = len(self.connector.calls)
        status, text = await self.post(activity)
        assert status == 200, text
        return [c.body for c in self.connector.calls[before:] if c.kind == "reply" and c.body]

    async def say(self, text: str, sender: str = ANA, **kw: Any) -> dict[str, Any]:
        (reply,) = await self.send(personal(self.connector.url, text, sender, **kw))
        return reply

    async def deliver(self) -> None:
        await deliver_all(self.runtime.core)

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        """Activities the bot sent proactively into a chat it opened with `user_id`."""
        convs = {
            c.response["id"]
            for c in self.connector.calls_of("create_conversation")
            if c.body and c.body["members"] == [{"id": user_id}]
        }
        return [c.body for c in self.connector.calls_of("send") if c.conversation_id in convs]

    def posts_in(self, conversation_id: str) -> list[dict[str, Any]]:
        return [
            c.body
            for c in self.connector.calls_of("send")
            if c.conversation_id == conversation_id and c.body
        ]

    async def count(self, model: type) -> int:
        async with self.runtime.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _base(service_url: str, sender: str, conversation: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"17000000{next(_ids):05d}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": sender, "name": NAMES.get(sender, sender), "aadObjectId": f"aad-{sender}"},
        "recipient": {"id": BOT, "name": "Allybot"},
        "conversation": conversation,
        "channelData": {"tenant": {"id": TENANT}},
        "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Paris"}],
        "textFormat": "plain",
        "locale": "en-US",
    }


def mention(user_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": user_id, "name": name},
    }


def personal(
    service_url: str, text: str, sender: str = ANA, *, mentions: tuple[str, ...] = ()
) -> dict[str, Any]:
    conv = {"conversationType": "personal", "id": PERSONAL[sender], "tenantId": TENANT}
    activity = _base(service_url, sender, conv)
    activity["text"] = text
    activity["entities"] += [mention(m, NAMES[m]) for m in mentions]
    return activity


def channel_message(
    service_url: str, text: str, sender: str = ANA, *, mentions: tuple[str, ...] = ()
) -> dict[str, Any]:
    activity = _base(
        service_url,
        sender,
        {"conversationType": "channel", "isGroup": True, "id": GENERAL, "tenantId": TENANT},
    )
    activity["conversation"]["id"] = f"{GENERAL};messageid={activity['id']}"
    activity["channelData"]["channel"] = {"id": GENERAL}
    activity["text"] = f"<at>Allybot</at> {text}"
    activity["entities"] += [mention(BOT, "Allybot")] + [mention(m, NAMES[m]) for m in mentions]
    return activity


def reaction(
    service_url: str, message_id: str, sender: str, *, added: bool = True
) -> dict[str, Any]:
    activity = _base(
        service_url, sender, {"conversationType": "channel", "isGroup": True, "id": GENERAL}
    )
    activity.update(type="messageReaction", id=f"f:{next(_ids)}", replyToId=message_id)
    activity["reactionsAdded" if added else "reactionsRemoved"] = [{"type": "like"}]
    return activity


@pytest_asyncio.fixture
async def teams(
    sqlite_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> AsyncIterator[TeamsSystem]:
    # Imported here: tests/teams_support.py reads this module's names.
    from tests.teams_support import start_teams

    async for system in start_teams(sqlite_url, clock, fake_connector):
        yield system


# ----- commands in a personal chat ------------------------------------------------------------


async def test_kudos_in_personal_chat_replies_and_dms_recipient(teams: TeamsSystem) -> None:
    reply = await teams.say("kudos <at>Bo</at> thanks for the demo #teamwork", mentions=(BO,))
    assert "Kudos sent to **Bo**" in reply["text"]
    assert "4 of 5 left today" in reply["text"]
    assert reply["conversation"]["id"] == PERSONAL[ANA]
    assert await teams.count(Kudos) == 1  # committed before Teams got its answer

    await teams.deliver()
    (create,) = teams.connector.calls_of("create_conversation")
    assert create.body is not None
    assert create.body["members"] == [{"id": BO}]
    assert create.body["tenantID"] == TENANT
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    (dm,) = teams.dms_to(BO)
    assert "**Ana** gave you kudos" in dm["text"]
    assert "thanks for the demo \\#teamwork" in dm["text"]
    assert dm["from"]["id"] == BOT and dm["recipient"]["id"] == BO
    assert dm.get("replyToId") is None  # a new message, not a reply to a made-up id
    # A personal chat is not a channel: no public post, only DMs (Bo's thanks, and Ana's
    # "First thanks" badge, sent in her existing chat with the bot).
    sends = [c.conversation_id for c in teams.connector.calls_of("send")]
    assert sends == [create.response["id"], PERSONAL[ANA]]

    stats = await teams.say("kudos stats")
    assert "given: 1 this week" in stats["text"]
    assert stats["attachments"][0]["contentType"] == CARD


async def test_same_activity_twice_gives_kudos_once(teams: TeamsSystem) -> None:
    activity = personal(teams.connector.url, "kudos <at>Bo</at> thanks!", mentions=(BO,))
    (first,) = await teams.send(activity)
    (second,) = await teams.send(copy.deepcopy(activity))  # Teams retries with the same id
    assert "Kudos sent" in first["text"]
    assert "Already done" in second["text"]
    await teams.deliver()
    assert len(teams.dms_to(BO)) == 1
    assert await teams.count(Kudos) == 1


async def test_refusal_help_and_unknown_command(teams: TeamsSystem) -> None:
    me = await teams.say("kudos <at>Ana</at> for me", mentions=(ANA,))
    assert "yourself" in me["text"]
    assert "Kudos sent" not in me["text"]

    help_ = await teams.say("help")
    (attachment,) = help_["attachments"]
    assert attachment["contentType"] == CARD
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["body"][0]["text"] == "Allybot commands"
    assert "kudos @person" in json.dumps(card)
    assert "Here's what I can do: kudos" in help_["text"]  # notification text beside the card

    unknown = await teams.say("kudoz <at>Bo</at> hi", mentions=(BO,))
    assert "I don't know the command “kudoz”" in unknown["text"]
    assert "Did you mean" in unknown["text"]
    await teams.deliver()
    assert teams.dms_to(BO) == []


# ----- channels ---------------------------------------------------------------------------------


async def test_channel_message_mentioning_the_bot_runs_the_command(
    teams: TeamsSystem, reference: Path
) -> None:
    activity = load_json(
        reference / "teams/activities/teams.net/message__channel_thread_reply_with_mention.json"
    )
    activity["serviceUrl"] = teams.connector.url
    bot = activity["recipient"]
    activity["text"] = f"<at>{bot['name']}</at> kudos <at>Bo</at> great pairing"
    activity["entities"].append(mention(BO, "Bo"))
    (reply,) = await teams.send(activity)
    assert "Kudos sent to **Bo**" in reply["text"]
    # In the thread the command was typed in, as a reply to it.
    assert reply["conversation"]["id"] == activity["conversation"]["id"]
    assert reply["replyToId"] == activity["id"]

    await teams.deliver()
    # The public thanks goes to the same thread too, not to the channel's top level.
    (post,) = teams.posts_in(activity["conversation"]["id"])
    assert "<at>Bo</at>" in post["text"] and "great pairing" in post["text"]
    assert post["entities"] == [
        {"type": "mention", "text": "<at>Bo</at>", "mentioned": {"id": BO, "name": "Bo"}}
    ]
    (dm,) = teams.dms_to(BO)
    assert "**rido** gave you kudos" in dm["text"]
    # The tenant came from the activity: the DM went to the same tenant.
    assert (
        teams.connector.calls_of("create_conversation")[0].body["tenantID"]
        == (  # type: ignore[index]
            activity["channelData"]["tenant"]["id"]
        )
    )


async def test_channel_command_whatever_the_order_of_the_mention_entities(
    teams: TeamsSystem,
) -> None:
    # Teams does not promise `entities` in text order: here the bot's own mention comes last.
    activity = channel_message(teams.connector.url, "kudos <at>Bob Brown</at> great review")
    ours = [e for e in activity["entities"] if e.get("mentioned", {}).get("id") == BOT]
    assert ours and activity["text"].startswith("<at>Allybot</at> kudos")
    others = [e for e in activity["entities"] if e not in ours]
    activity["entities"] = [*others, mention(BO, "Bob Brown"), *ours]
    (reply,) = await teams.send(activity)
    assert "I don't know the command" not in reply["text"]
    assert "Kudos sent to **Bob Brown**" in reply["text"]

    await teams.deliver()
    (dm,) = teams.dms_to(BO)
    assert "**Ana** gave you kudos" in dm["text"] and "great review" in dm["text"]


async def test_channel_message_without_the_bot_mention_is_ignored(teams: TeamsSystem) -> None:
    activity = channel_message(teams.connector.url, "x", mentions=(BO,))
    activity["text"] = "kudos <at>Bo</at> nice"
    activity["entities"] = [
        e for e in activity["entities"] if e.get("mentioned", {}).get("id") != BOT
    ]
    assert await teams.send(activity) == []
    await teams.deliver()
    assert teams.connector.activities == []
    assert await teams.count(Kudos) == 0


# ----- message action and reactions -----------------------------------------------------------


def submit_action(service_url: str, author_aad: str, reason: str) -> dict[str, Any]:
    activity = channel_message(service_url, "")
    del activity["text"]
    activity["entities"] = []
    activity.update(
        type="invoke",
        id=f"f:{next(_ids)}",
        name="composeExtension/submitAction",
        value={
            "commandId": "giveKudos",
            "commandContext": "message",
            "data": {"reason": reason},
            "context": {"theme": "default"},
            "messagePayload": {
                "id": "1700000000123",
                "messageType": "message",
                "linkToMessage": "https://teams.microsoft.com/l/message/19:general/1700000000123",
                "from": {
                    "user": {"id": author_aad, "displayName": "Bo", "userIdentityType": "aadUser"}
                },
                "body": {"contentType": "html", "content": "<p>Release notes are out&nbsp;🎉</p>"},
            },
        },
    )
    return activity


async def test_message_action_gives_kudos_to_the_author(teams: TeamsSystem) -> None:
    bo = teams.connector.add_member("aad-bo", "Bo", aad_object_id="aad-bo", tenant_id=TENANT)
    bo["id"] = BO  # the connector's member look-up accepts the AAD id, answers the "29:" id
    status, text = await teams.post(
        submit_action(teams.connector.url, "aad-bo", "great write-up #docs")
    )
    assert status == 200
    answer = json.loads(text)
    assert answer["composeExtension"]["type"] == "message"
    assert "Kudos sent to Bo" in answer["composeExtension"]["text"]
    (lookup,) = teams.connector.calls_of("get_member")
    assert lookup.member_id == "aad-bo"

    await teams.deliver()
    (dm,) = teams.dms_to(BO)
    assert "**Ana** gave you kudos" in dm["text"] and "great write-up \\#docs" in dm["text"]
    assert "(https://teams.microsoft.com/l/message/19:general/1700000000123)" in dm["text"]


async def test_message_action_without_reason_says_what_is_missing(teams: TeamsSystem) -> None:
    status, text = await teams.post(submit_action(teams.connector.url, "aad-bo", "  "))
    assert status == 200
    assert "Say what you're thanking them for" in json.loads(text)["composeExtension"]["text"]
    assert await teams.count(Kudos) == 0


async def test_reaction_on_kudos_post_seconds_it_and_removal_takes_back(
    teams: TeamsSystem,
) -> None:
    await teams.send(channel_message(teams.connector.url, "kudos <at>Bo</at> demo", mentions=(BO,)))
    await teams.deliver()
    sends = teams.connector.calls_of("send")
    (post,) = [c for c in sends if c.conversation_id.split(";")[0] == GENERAL]
    post_id = post.response["id"]

    assert await teams.send(reaction(teams.connector.url, post_id, CY)) == []
    await teams.deliver()
    dms = teams.dms_to(BO)
    assert len(dms) == 2 and "**Cy** gave you kudos" in dms[1]["text"]
    assert "demo" in dms[1]["text"]  # seconds the original kudos, with its reason
    stats = await teams.say("kudos stats", sender=BO)
    assert "received: 2 this week" in stats["text"]

    assert await teams.send(reaction(teams.connector.url, post_id, CY, added=False)) == []
    await teams.deliver()
    stats = await teams.say("kudos stats", sender=BO)
    assert "received: 1 this week" in stats["text"]


# ----- rendering --------------------------------------------------------------------------------


async def test_user_text_is_escaped_in_messages(teams: TeamsSystem) -> None:
    # Teams sends what people type HTML-escaped; "<at>Cy</at>" here is typed text, no mention.
    text = "kudos <at>Bo</at> thanks &lt;at&gt;Cy&lt;/at&gt; for **bold** [x](http://evil)"
    await teams.say(text, mentions=(BO,))
    await teams.deliver()
    (dm,) = teams.dms_to(BO)
    assert "&lt;at&gt;Cy&lt;/at&gt;" in dm["text"]
    assert "<at>" not in dm["text"]
    assert "\\*\\*bold\\*\\* \\[x\\](http://evil)" in dm["text"]
    assert not dm.get("entities")  # no mention entity: nobody is pinged


async def test_typed_mention_token_is_not_a_mention(teams: TeamsSystem) -> None:
    reply = await teams.say("kudos &lt;@29:bo&gt; thanks")
    assert "Who are you thanking" in reply["text"]


async def test_card_button_becomes_action_pressed(teams: TeamsSystem) -> None:
    activity = personal(teams.connector.url, "")
    activity.update(value={"action_id": "kudos.undo", "value": "42"}, replyToId="1700000000999")
    env = inbound.read_envelope(activity, teams.runtime.core.services.clock.now())
    assert env is not None
    event = inbound.message_event(env)
    assert isinstance(event, ActionPressed)
    assert (event.action_id, event.value) == ("kudos.undo", "42")
    assert event.message is not None and event.message.id == "1700000000999"
    assert await teams.send(activity) == []  # the core has no buttons to act on yet


# ----- robustness -------------------------------------------------------------------------------


async def test_failed_turn_says_sorry_and_is_not_acknowledged(
    teams: TeamsSystem, caplog: pytest.LogCaptureFixture
) -> None:
    teams.connector.fail_next(403, kinds=("reply",))  # the answer cannot be delivered
    activity = personal(teams.connector.url, "kudos <at>Bo</at> thanks", mentions=(BO,))
    status, text = await teams.post(activity)
    assert status == 500
    assert json.loads(text) == {"error": "internal error"}  # no traceback leaks
    failed, sorry = teams.connector.calls_of("reply")
    assert failed.status == 403
    assert sorry.text is not None and sorry.text.startswith("Sorry, something went wrong")
    assert any(r.exc_info for r in caplog.records)  # logged for us, with the traceback
    assert await teams.count(Kudos) == 1  # the effect was committed before the reply failed
    (retry,) = await teams.send(activity)  # so Teams' retry finds it done
    assert "Already done" in retry["text"]


async def test_failed_message_action_answers_sorry(
    teams: TeamsSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(event: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(teams.runtime.core, "handle", broken)
    status, text = await teams.post(submit_action(teams.connector.url, "aad-bo", "thanks"))
    assert status == 200
    answer = json.loads(text)["composeExtension"]
    assert answer["text"].startswith("Sorry, something went wrong")
    assert "database on fire" not in text and "Traceback" not in text


async def test_app_id_turns_authentication_on(
    sqlite_url: str, clock: ManualClock, fake_connector: FakeBotConnector
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url,
        MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001",
        MICROSOFT_APP_PASSWORD="not-a-real-secret",
        _env_file=None,
    )
    # The start-up credentials check asks the fake's Entra side, not the Internet.
    login = fake_connector.login_session()
    runtime = await build_runtime(settings, clock=clock, run_worker=False, login_http=login)
    runner = web.AppRunner(runtime.app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages",
                json=personal(fake_connector.url, "help"),
            )
            assert resp.status == 401
            assert await resp.json() == {"error": "unauthorized"}
    finally:
        await runner.cleanup()
        await runtime.close()
    assert fake_connector.calls == []  # nothing was sent to the serviceUrl it named


def _reference_files() -> list[Path]:
    return sorted(ACTIVITIES.rglob("*.json"))


@pytest.mark.parametrize("path", _reference_files(), ids=lambda p: p.name)
async def test_reference_activities_never_fail(
    teams: TeamsSystem, path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    activity = load_json(path)
    if isinstance(activity, dict):
        activity["serviceUrl"] = teams.connector.url
    with caplog.at_level(logging.INFO):
        status, text = await teams.post(activity)
        await teams.deliver()
    assert status < 500, text
    assert "Traceback" not in text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    if isinstance(activity, dict) and "type" not in activity:
        assert status == 400  # e.g. the invoke *response* sample is not an activity
    if isinstance(activity, dict) and activity.get("type") == "invoke":
        assert status == 200


def test_reference_activities_are_there() -> None:
    assert len(_reference_files()) >= 10


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"id": "1", "text": "kudos"}', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),  # no serviceUrl to answer to
        (b'{"type": "message", "serviceUrl": "http://x/"}', "text/plain", 415),
    ],
)
async def test_malformed_bodies_get_4xx(
    teams: TeamsSystem, body: bytes, content_type: str, status: int
) -> None:
    got, text = await teams.post(None, data=body, headers={"Content-Type": content_type})
    assert got == status
    assert set(json.loads(text)) == {"error"}
    assert await teams.count(ProcessedEvent) == 0
    assert teams.connector.calls == []


# ----- the port ---------------------------------------------------------------------------------


async def test_port_maps_connector_failures(teams: TeamsSystem) -> None:
    port = teams.runtime.core.ports[Platform.TEAMS]
    with pytest.raises(DeliveryError) as unknown:  # nobody in this tenant talked to us yet
        await port.send(WS, ToUser(user=UserRef(WS, BO)), Message(text=rich("hi")))
    assert unknown.value.retryable

    await teams.say("help")  # teaches the adapter the tenant's service URL and a route for Ana
    general = ConversationRef(WS, GENERAL, ConversationKind.CHANNEL)
    teams.connector.fail_next(429, retry_after=7, kinds=("send",))
    with pytest.raises(DeliveryError) as limited:
        await port.send(WS, ToConversation(conversation=general), Message(text=rich("hi")))
    assert limited.value.retryable and limited.value.retry_after == 7

    teams.connector.fail_next(503, kinds=("send",))
    with pytest.raises(DeliveryError) as down:
        await port.send(WS, ToConversation(conversation=general), Message(text=rich("hi")))
    assert down.value.retryable
    assert len(teams.connector.calls_of("send")) == 2  # botbuilder did not retry on its own

    teams.connector.fail_next(403, kinds=("send",))  # the bot was removed from the team
    with pytest.raises(DeliveryError) as removed:
        await port.send(WS, ToConversation(conversation=general), Message(text=rich("hi")))
    assert not removed.value.retryable

    # Ana's stored chat is gone (404): the port opens a new one and remembers it.
    teams.connector.fail_next(404, kinds=("send",))
    sent = await port.send(WS, ToUser(user=UserRef(WS, ANA)), Message(text=rich("psst")))
    assert sent is not None and sent.conversation_id == "a:new-conv-1"
    route = Route.decode(await teams.runtime.core.services.directory.route(UserRef(WS, ANA)))
    assert route is not None and route.conversation_id == "a:new-conv-1"
    await port.update(WS, sent, Message(text=rich("edited")))
    (update,) = teams.connector.calls_of("update")
    assert update.conversation_id == "a:new-conv-1"
    assert update.activity_id == sent.message_id and update.body["text"] == "edited"  # type: ignore[index]
    # When Ana writes from her chat again, that chat is stored again.
    await teams.say("help")
    route = Route.decode(await teams.runtime.core.services.directory.route(UserRef(WS, ANA)))
    assert route is not None and route.conversation_id == PERSONAL[ANA]


async def test_user_info_asks_the_shared_chat(teams: TeamsSystem) -> None:
    port = teams.runtime.core.ports[Platform.TEAMS]
    assert await port.user_info(UserRef(WS, ANA)) is None  # no chat with Ana yet
    await teams.say("help")
    teams.connector.add_member(ANA, "Ana Lima", tenant_id=TENANT)
    info = await port.user_info(UserRef(WS, ANA))
    assert info is not None and info.display_name == "Ana Lima" and not info.is_bot


async def test_refuses_to_run_without_app_id_unless_enabled(
    sqlite_url: str, clock: ManualClock
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url, MICROSOFT_APP_ID="", TEAMS_ENABLED=False, _env_file=None
    )
    db = Database(sqlite_url)
    try:
        with pytest.raises(ValueError, match="MICROSOFT_APP_ID"):
            TeamsAdapter(bootstrap(settings, db, {}, clock), settings)
    finally:
        await db.dispose()


# ----- recognition ------------------------------------------------------------------------------


async def test_home_leaderboard_and_badges_in_teams(teams: TeamsSystem) -> None:
    await teams.say("kudos <at>Bo</at> thanks for the demo #teamwork", mentions=(BO,))
    home = await teams.say("home")
    (card,) = [a["content"] for a in home["attachments"] if a["contentType"] == CARD]
    text = json.dumps(card, ensure_ascii=False)
    assert "Hi Ana 👋" in text and "0 received · 1 given" in text and "4 of 5" in text
    assert [a["data"]["action_id"] for a in card["actions"]] == [
        "home:kudos",
        "home:leaderboard",
        "home:profile",
        "nudge:home",
    ]
    board = await teams.say("leaderboard", sender=CY)
    assert "1. **Bo** — 1" in board["text"]
    assert not board.get("entities")  # a leaderboard mentions nobody
    # Ana is the admin (ALLYBOT_ADMINS): she makes Cy a curator, who awards Bo a badge.
    granted = await teams.say("role add <at>Cy</at> curator", mentions=(CY,))
    assert "Cy is now a curator" in granted["text"]
    award = await teams.say(
        'badge give <at>Bo</at> trained-ambassador "finished the track"', sender=CY, mentions=(BO,)
    )
    assert "Awarded 🎓 Trained ambassador to Bo" in award["text"]
    await teams.deliver()
    assert any("Trained ambassador" in (a.get("text") or "") for a in teams.dms_to(BO))
    # A card button comes back as a message with a value.
    pressed = personal(teams.connector.url, "", ANA)
    pressed["value"] = {"action_id": "home:leaderboard", "value": ""}
    (answer,) = await teams.send(pressed)
    assert "Kudos received this month" in answer["text"]
