"""Hostile and malformed input on /api/messages (issue 12): never a 5xx, a 4xx writes nothing,
and authentication answers 401 to any token it can't validate, without blocking or a network
fetch (the signing keys come from a local key source here)."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
import requests
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from adapters.runtime import Runtime, build_runtime
from adapters.teams import auth, edge
from bot.clock import ManualClock
from bot.settings import Settings
from tests.fakes import FakeBotConnector
from tests.hostile import leaks, row_counts
from tests.test_teams_e2e import ACTIVITIES, BOT, TENANT, load_json, personal

APP_ID = "00000000-0000-0000-0000-000000000001"
CHANNEL_ISSUER = "https://api.botframework.com"
METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"


class Served:
    def __init__(self, runtime: Runtime, runner: web.AppRunner, http: aiohttp.ClientSession):
        self.runtime = runtime
        self.runner = runner
        self.http = http
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"

    async def post(self, **kw: Any) -> tuple[int, str]:
        resp = await self.http.post(self.url, **kw)
        return resp.status, await resp.text()


async def serve(settings: Settings, clock: ManualClock) -> AsyncIterator[Served]:
    runtime = await build_runtime(settings, clock=clock, run_worker=False)
    runner = web.AppRunner(runtime.app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Served(runtime, runner, http)
    finally:
        await runner.cleanup()
        await runtime.close()


@pytest_asyncio.fixture
async def open_teams(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Served]:
    """Authentication off (TEAMS_ENABLED): the parser and translation face the input alone."""
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url,
        TEAMS_ENABLED=True,
        MICROSOFT_APP_ID="",
        ALLYBOT_ADMINS="29:ana",
        _env_file=None,
    )
    async for served in serve(settings, clock):
        yield served


# ----- a local key source ----------------------------------------------------------------------


class KeySource:
    """Stands in for login.botframework.com: the OpenID document and its JWKS, on no network."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="k1", use="sig", endorsements=["msteams"])
        self.jwks = {"keys": [jwk]}
        self.fetched: list[str] = []
        self.fail = False

    async def fetch(self, url: str) -> Any:
        self.fetched.append(url)
        if self.fail:
            raise aiohttp.ClientConnectionError("no route to host")
        if url == "local://jwks":
            return self.jwks
        return {"jwks_uri": "local://jwks"}

    def token(self, service_url: str, *, kid: str = "k1", key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": CHANNEL_ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 10,
            "exp": now + 600,
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> KeySource:
    source = KeySource()
    monkeypatch.setattr(auth, "fetch_json", source.fetch)
    return source


@pytest_asyncio.fixture
async def secured(
    sqlite_url: str, clock: ManualClock, keys: KeySource, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Served]:
    def no_blocking_fetch(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a blocking HTTP call was made: {args[1:3]}")

    # botbuilder's own key cache fetches with requests.get, in the event loop: it must never
    # run (these activities need no reply, so nothing else uses requests either).
    monkeypatch.setattr(requests.Session, "request", no_blocking_fetch)
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="not-a-real-secret",
        _env_file=None,
    )
    async for served in serve(settings, clock):
        yield served


SERVICE = "https://smba.example.test/emea/"


def joined() -> dict[str, Any]:
    """An activity that needs no reply in the turn (a member joined a team)."""
    return {
        "type": "conversationUpdate",
        "id": f"f:{time.monotonic_ns()}",
        "channelId": "msteams",
        "serviceUrl": SERVICE,
        "from": {"id": "29:ana", "name": "Ana"},
        "recipient": {"id": BOT, "name": "Allybot"},
        "conversation": {"id": "19:general@thread.tacv2", "conversationType": "channel"},
        "channelData": {"tenant": {"id": TENANT}, "eventType": "teamMemberAdded"},
        "membersAdded": [{"id": "29:bo", "name": "Bo"}],
    }


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def garbage_tokens(keys: KeySource) -> list[tuple[str, str]]:
    header_ok = b64({"alg": "RS256", "kid": "k1", "typ": "JWT"})
    return [
        ("no scheme", "garbage"),
        ("Bearer garbage", "Bearer garbage"),
        ("three empty segments", "Bearer .."),
        ("bad base64", "Bearer a.b.c"),
        ("not ASCII", "Bearer é.é.é"),
        ("long", "Bearer " + "a" * 8_000 + ".b.c"),  # aiohttp refuses 8 KB+ lines itself
        ("Basic scheme", "Basic dXNlcjpwYXNz"),
        ("header not JSON", f"Bearer {b64({})[:-1]}x.{b64({})}.sig"),
        ("payload a list", f"Bearer {header_ok}.{base64.urlsafe_b64encode(b'[1]').decode()}.s"),
        ("no iss", f"Bearer {header_ok}.{b64({'aud': APP_ID})}.c2ln"),
        ("alg none", "Bearer " + jwt.encode({"iss": CHANNEL_ISSUER}, None, algorithm="none")),
        ("HS256", "Bearer " + jwt.encode({"iss": CHANNEL_ISSUER}, "k" * 32, algorithm="HS256")),
        ("no kid", f"Bearer {b64({'alg': 'RS256'})}.{b64({'iss': CHANNEL_ISSUER})}.c2ln"),
        ("foreign issuer", "Bearer " + keys.token(SERVICE, iss="https://evil.example")),
        ("unknown kid", "Bearer " + keys.token(SERVICE, kid="k-unknown")),
        ("wrong signing key", "Bearer " + keys.token(SERVICE, key=keys.other)),
        ("expired", "Bearer " + keys.token(SERVICE, exp=int(time.time()) - 3600)),
        ("wrong audience", "Bearer " + keys.token(SERVICE, aud="someone-else")),
        ("serviceUrl claim differs", "Bearer " + keys.token("https://evil.example/")),
        ("not endorsed for the channel", "Bearer " + keys.token(SERVICE)),  # see below
    ]


async def test_unverifiable_tokens_get_401_without_blocking_fetches(
    secured: Served, keys: KeySource, caplog: pytest.LogCaptureFixture
) -> None:
    before = await row_counts(secured.runtime.db)
    for name, header in garbage_tokens(keys):
        activity = joined()
        if name == "not endorsed for the channel":
            activity["channelId"] = "some-other-channel"
        status, text = await secured.post(json=activity, headers={"Authorization": header})
        assert status == 401, (name, status, text)
        assert json.loads(text) == {"error": "unauthorized"}, name
    assert await row_counts(secured.runtime.db) == before
    # Malformed tokens never reach the key source; the first well-formed one fetches the keys
    # once (document + JWKS), and the unknown kid doesn't fetch again within the refresh window.
    assert keys.fetched == [METADATA, "local://jwks"]
    assert "Traceback" not in caplog.text or "rejected a Teams token" in caplog.text


async def test_a_valid_token_is_accepted_and_keys_are_cached(
    secured: Served, keys: KeySource
) -> None:
    for _ in range(5):
        header = "Bearer " + keys.token(SERVICE)
        status, text = await secured.post(json=joined(), headers={"Authorization": header})
        assert status == 200, text
    assert keys.fetched == [METADATA, "local://jwks"]  # once, not per request


async def test_key_source_outage_is_401_and_not_retried_per_request(
    secured: Served, keys: KeySource
) -> None:
    keys.fail = True
    for _ in range(5):
        header = "Bearer " + keys.token(SERVICE)
        status, _ = await secured.post(json=joined(), headers={"Authorization": header})
        assert status == 401
    assert keys.fetched == [METADATA]  # one attempt; the next waits RETRY_AFTER


async def test_without_authentication_a_header_is_ignored_not_fetched(
    open_teams: Served, keys: KeySource, fake_connector: FakeBotConnector
) -> None:
    activity = personal(fake_connector.url, "help")
    status, _ = await open_teams.post(json=activity, headers={"Authorization": "Bearer a.b.c"})
    assert status == 200
    assert keys.fetched == []


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
async def test_deep_nesting_gets_400_before_authentication(
    secured: Served, open_teams: Served, depth: int, keys: KeySource
) -> None:
    inside = json.dumps(joined()).replace('"membersAdded"', f'"x": {nested(depth)}, "membersAdded"')
    for served in (secured, open_teams):
        for body in (nested(depth), inside):
            status, text = await served.post(
                data=body, headers={"Content-Type": "application/json"}
            )
            assert status == 400, (depth, status, text[:200])
            assert "nests deeper" in text
    assert keys.fetched == []


async def test_encodings_other_than_utf8_get_400(
    open_teams: Served, fake_connector: FakeBotConnector
) -> None:
    activity = json.dumps(personal(fake_connector.url, "help café"), ensure_ascii=False)
    for data, content_type in [
        (activity.encode("utf-16"), "application/json; charset=utf-16"),
        (activity.encode(), "application/json; charset=utf-16"),
        (activity.encode("latin-1"), "application/json"),
        (b'{"type": "message", "text": "\xff\xfe"}', "application/json"),
    ]:
        status, text = await open_teams.post(data=data, headers={"Content-Type": content_type})
        assert status == 400, (content_type, status, text)
    assert fake_connector.calls == []


def shapes(service_url: str) -> list[tuple[str, dict[str, Any]]]:
    def with_(**over: Any) -> dict[str, Any]:
        activity = personal(service_url, "kudos stats")
        activity.update(over)
        return activity

    base = personal(service_url, "help")
    return [
        (
            "conversation id not Latin-1",
            with_(conversation={**base["conversation"], "id": "a:ána-日本"}),
        ),
        ("conversation id with a newline", with_(conversation={"id": "a:1\r\nX-Evil: 1"})),
        ("replyToId not Latin-1", with_(replyToId="17\u2603")),
        ("conversation as a string", with_(conversation="a:dm-ana")),
        ("from as a number", with_(**{"from": 42})),
        ("from.id as a number", with_(**{"from": {"id": 42}})),
        ("entities as a string", with_(entities="mention")),
        ("entities holding strings", with_(entities=["mention"])),
        ("mentioned as a string", with_(entities=[{"type": "mention", "mentioned": "29:bo"}])),
        ("membersAdded holding strings", with_(type="conversationUpdate", membersAdded=["29:bo"])),
        ("reactionsAdded as an object", with_(type="messageReaction", reactionsAdded={"a": 1})),
        ("channelData.tenant as a string", with_(channelData={"tenant": TENANT})),
        ("text as a list", with_(text=["kudos"])),
        ("type as a number", with_(type=3)),
        ("type empty", with_(type="")),
        ("serviceUrl not a URL", with_(serviceUrl="javascript:alert(1)")),
        ("serviceUrl not ASCII", with_(serviceUrl="https://exämple.test/")),
        ("NUL in text", with_(text="kudos \u0000")),
    ]


async def test_wrong_shapes_get_400_and_write_nothing(
    open_teams: Served, fake_connector: FakeBotConnector, caplog: pytest.LogCaptureFixture
) -> None:
    before = await row_counts(open_teams.runtime.db)
    for name, activity in shapes(fake_connector.url):
        with caplog.at_level(logging.WARNING):
            status, text = await open_teams.post(json=activity)
        assert status == 400, (name, status, text)
        assert set(json.loads(text)) == {"error"} and not leaks(text), name
    assert "rejected a Teams request" in caplog.text
    assert await row_counts(open_teams.runtime.db) == before
    assert fake_connector.calls == []  # no reply, no apology to a header-unsafe id


async def test_unicode_digits_in_commands_get_a_specific_message(
    open_teams: Served, fake_connector: FakeBotConnector
) -> None:
    settings_ana = personal(fake_connector.url, "config allowance \u00b2")
    status, _ = await open_teams.post(json=settings_ana)
    assert status == 200
    (reply,) = [c.body for c in fake_connector.calls if c.kind == "reply" and c.body]
    assert "whole number" in reply["text"] and not leaks(reply["text"])


def test_every_reference_activity_passes_the_validator() -> None:
    paths = sorted(ACTIVITIES.rglob("*.json"))
    assert len(paths) >= 10
    for path in paths:
        activity = load_json(path)
        if not (isinstance(activity, dict) and "type" in activity):
            continue  # the invoke *response* sample is not an activity
        if not str(activity.get("serviceUrl")).startswith("https://"):
            # The synthetic samples say "fakeServiceUrl", which the old check refused as well.
            activity["serviceUrl"] = "https://smba.trafficmanager.net/amer/"
        edge.read_activity(json.dumps(activity).encode(), "utf-8")  # raises on a false alarm


def test_reference_directory_is_the_copied_one() -> None:
    assert Path(ACTIVITIES).is_relative_to(Path(__file__).resolve().parent / "fixtures")


@given(
    header=st.text(max_size=200)
    | st.builds(lambda t: f"Bearer {t}", st.text(max_size=200))
    | st.builds(
        lambda a, b, c: f"Bearer {a}.{b}.{c}",
        st.text("ABCDEFabcdef0123456789-_=", max_size=60),
        st.text("ABCDEFabcdef0123456789-_=", max_size=60),
        st.text(max_size=20),
    )
)
@settings(max_examples=300, deadline=None, database=None)
def test_screening_any_header_never_raises(header: str) -> None:
    """The screen runs on every request before botbuilder: it answers, whatever it is given."""
    result = auth.screen(header, auth._issuers())
    assert isinstance(result, str) or result.metadata_url.startswith("https://")
