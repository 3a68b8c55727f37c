"""A fake Bot Framework Connector (the Teams ``serviceUrl``) served by aiohttp on 127.0.0.1.

Use ``fake.url`` (``http://127.0.0.1:PORT/`` plus an optional ``path_prefix`` such as ``amer/``) as
the inbound activity's ``serviceUrl``; botbuilder then sends replies, updates, deletes, proactive
conversations and member look-ups here, and each request is recorded as a :class:`ConnectorCall`.

Wire facts (botbuilder 4.17.1 / msrest 0.7): ids are percent-encoded with ``quote(id, safe="")`` so
``a:1`` arrives as ``a%3A1``; the base URL's path is kept (``.../amer/v3/conversations/...``);
requests come from ``requests`` in a worker thread, JSON bodies in camelCase, and no
``Authorization`` header is sent when the bot's app id is empty.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, unquote

import requests
import requests.adapters
from aiohttp import web

from tests.fakes.server import FakeServer

__all__ = ["ACTIVITY_KINDS", "ConnectorCall", "FakeBotConnector"]

JsonDict = dict[str, Any]

ACTIVITY_KINDS: tuple[str, ...] = ("reply", "send")
"""Kinds of calls that post an activity (``wait_for``'s default filter and ``activities``)."""

_DEFAULT_CODES: dict[int, str] = {
    400: "BadSyntax",
    401: "Unauthorized",
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    502: "ServiceError",
    503: "ServiceUnavailable",
}


@dataclass
class ConnectorCall:
    """One request received by :class:`FakeBotConnector`.

    ``kind`` is one of ``reply``, ``send``, ``update``, ``delete``, ``history``,
    ``create_conversation``, ``get_member``, ``get_members``, ``get_paged_members``, ``team``,
    or ``other``; Microsoft Entra's ``openid``, ``instance`` and ``token`` (reached through
    ``login_session``) are kept in ``FakeBotConnector.logins``, not ``calls``.
    ``conversation_id`` and ``activity_id`` are percent-decoded; for a reply, ``activity_id`` is
    the id being replied to (also available as ``reply_to_id``); for
    ``team`` (``GET /v3/teams/{teamId}``) ``conversation_id`` holds the team id. ``path`` is the raw
    (still percent-encoded) path as it came over the wire.
    """

    verb: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: JsonDict | None
    headers: dict[str, str]
    kind: str = "other"
    member_id: str | None = None
    status: int = 200
    response: Any = field(default=None, repr=False)

    @property
    def reply_to_id(self) -> str | None:
        return self.activity_id if self.kind == "reply" else None

    @property
    def text(self) -> str | None:
        return self.body.get("text") if isinstance(self.body, dict) else None


LOGIN_URL = "https://login.microsoftonline.com/"
LOGIN_KINDS = frozenset({"openid", "instance", "token"})


class _ToLoopback(requests.adapters.HTTPAdapter):
    """Rewrites https://login.microsoftonline.com/... to the fake's own http:// address."""

    def __init__(self, root_url: str) -> None:
        super().__init__()
        self._root = root_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        assert request.url is not None and request.url.startswith(LOGIN_URL)
        request.url = self._root + request.url[len(LOGIN_URL) :]
        return super().send(request, **kwargs)


def _form(call: ConnectorCall) -> dict[str, str]:
    raw = (call.body or {}).get("_raw")
    return {k: v[-1] for k, v in parse_qs(raw).items()} if isinstance(raw, str) else {}


@dataclass
class _Failure:
    status: int
    code: str
    retry_after: int | None
    kinds: Collection[str] | None
    remaining: int


class FakeBotConnector(FakeServer[ConnectorCall]):
    """Fake Bot Connector service: ``async with FakeBotConnector() as connector: ...``."""

    def __init__(self, *, host: str = "127.0.0.1", path_prefix: str = "") -> None:
        super().__init__(host=host)
        self.path_prefix = path_prefix.strip("/")
        # member id -> (member JSON, conversation ids it belongs to; None = every conversation)
        self.members: dict[str, JsonDict] = {}
        self._member_scope: dict[str, set[str] | None] = {}
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self._convs = itertools.count(1)
        # The token endpoint (Microsoft Entra, reached through `login_session`): the client
        # secret it accepts (None: any), and the tenants its discovery knows.
        self.app_password: str | None = None
        self.tenants: set[str] = {"botframework.com"}
        self.logins: list[ConnectorCall] = []  # its requests (kinds in LOGIN_KINDS)
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The ``serviceUrl`` to put on inbound activities, always ending in ``/``."""
        prefix = f"{self.path_prefix}/" if self.path_prefix else ""
        return f"{self.root_url}{prefix}"

    def login_session(self) -> requests.Session:
        """A requests session for MSAL (``ConfidentialClientApplication(http_client=...)``)
        that sends what it addresses to Microsoft Entra (https://login.microsoftonline.com/)
        here instead, over plain HTTP on loopback: MSAL accepts only https authorities, and
        this keeps botbuilder's own authority and scope in the request."""
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment for loopback
        session.mount(LOGIN_URL, _ToLoopback(self.root_url))
        return session

    # ------------------------------------------------------------------ registry & control

    def add_member(
        self,
        member_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        email: str | None = None,
        tenant_id: str = "tenant-1",
        given_name: str | None = None,
        surname: str | None = None,
        conversation_ids: Collection[str] | None = None,
    ) -> JsonDict:
        """Register a TeamsChannelAccount-like member. ``conversation_ids=None`` makes it a
        member of every conversation."""
        first, _, last = name.partition(" ")
        upn = email or f"{first.lower() or 'user'}@example.com"
        member: JsonDict = {
            "id": member_id,
            "name": name,
            "aadObjectId": aad_object_id,
            "email": email or upn,
            "userPrincipalName": upn,
            "tenantId": tenant_id,
            "userRole": "user",
            "givenName": given_name if given_name is not None else first,
            "surname": surname if surname is not None else (last or None),
        }
        self.members[member_id] = member
        self._member_scope[member_id] = None if conversation_ids is None else set(conversation_ids)
        return member

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        *,
        code: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> None:
        """Answer the next ``times`` calls (of ``kinds``, default any) with HTTP ``status`` and a
        Bot Framework ErrorResponse body ``{"error": {"code", "message"}}``."""
        self._failures.append(
            _Failure(
                status=status,
                code=code or _DEFAULT_CODES.get(status, "ServiceError"),
                retry_after=retry_after,
                kinds=kinds,
                remaining=times,
            )
        )

    def reset(self) -> None:
        """Forget recorded calls, pending failures and registered members."""
        self.calls.clear()
        self._failures.clear()
        self.members.clear()
        self._member_scope.clear()

    @property
    def activities(self) -> list[JsonDict]:
        """Bodies of the activities the bot sent or replied (in arrival order)."""
        return [c.body for c in self.calls if c.kind in ACTIVITY_KINDS and c.body is not None]

    def calls_of(self, kind: str) -> list[ConnectorCall]:
        return [c for c in self.calls if c.kind == kind]

    async def wait_for(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[ConnectorCall], bool] | None = None,
        *,
        kinds: Collection[str] | Literal["any"] = ACTIVITY_KINDS,
    ) -> list[ConnectorCall]:
        """Wait until at least ``count`` calls match and return all matching calls.

        By default only calls that post an activity (``reply``/``send``) count; pass
        ``kinds=("update",)`` etc., or ``kinds="any"`` to let ``predicate`` alone decide.
        Raises AssertionError listing every recorded call on timeout.
        """

        def matches(call: ConnectorCall) -> bool:
            if kinds != "any" and call.kind not in kinds:
                return False
            return predicate is None or predicate(call)

        return await self._wait_until(
            matches,
            count,
            timeout,
            f"{count} connector call(s) of kinds {kinds}"
            f"{' matching predicate' if predicate else ''}",
        )

    def _describe_call(self, call: ConnectorCall) -> str:
        body = json.dumps(call.body)[:300] if call.body is not None else ""
        return f"[{call.kind}] {call.verb} {call.path} -> {call.status} {body}"

    # ------------------------------------------------------------------ internals

    def _next_activity_id(self) -> str:
        return str(1_700_000_000_000 + next(self._ids))

    def _take_failure(self, kind: str) -> _Failure | None:
        for failure in self._failures:
            if failure.kinds is None or kind in failure.kinds:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _members_of(self, conversation_id: str) -> list[JsonDict]:
        return [
            m
            for mid, m in self.members.items()
            if (scope := self._member_scope.get(mid)) is None or conversation_id in scope
        ]

    @staticmethod
    def _error(status: int, code: str, message: str) -> web.Response:
        return web.json_response({"error": {"code": code, "message": message}}, status=status)

    def _classify(
        self, verb: str, parts: list[str]
    ) -> tuple[str, str | None, str | None, str | None]:
        """-> (kind, conversation_id, activity_id, member_id) from decoded path segments."""
        if parts[-2:] == ["oauth2", "token"] or parts[-3:] == ["oauth2", "v2.0", "token"]:
            return "token", None, None, None
        if parts[-3:] == ["v2.0", ".well-known", "openid-configuration"]:
            return "openid", parts[0] if len(parts) > 3 else None, None, None
        if parts == ["common", "discovery", "instance"]:
            return "instance", None, None, None
        if parts[:1] != ["v3"]:
            return "other", None, None, None
        if parts[1:2] == ["teams"] and len(parts) == 3 and verb == "GET":
            return "team", parts[2], None, None
        if parts[1:2] != ["conversations"]:
            return "other", None, None, None
        if len(parts) == 2:
            return ("create_conversation" if verb == "POST" else "other"), None, None, None
        conv = parts[2]
        rest = parts[3:]
        if rest == ["activities"] and verb == "POST":
            return "send", conv, None, None
        if rest == ["activities", "history"] and verb == "POST":
            return "history", conv, None, None
        if len(rest) == 2 and rest[0] == "activities":
            kind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(verb, "other")
            return kind, conv, rest[1], None
        if len(rest) >= 2 and rest[0] == "activities":
            return "other", conv, rest[1], None
        if rest == ["members"] and verb == "GET":
            return "get_members", conv, None, None
        if rest == ["pagedmembers"] and verb == "GET":
            return "get_paged_members", conv, None, None
        if len(rest) == 2 and rest[0] == "members" and verb == "GET":
            return "get_member", conv, None, rest[1]
        return "other", conv, None, None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        raw_parts = [p for p in raw_path.split("/") if p]
        if self.path_prefix:
            prefix_parts = self.path_prefix.split("/")
            if raw_parts[: len(prefix_parts)] == prefix_parts:
                raw_parts = raw_parts[len(prefix_parts) :]
        parts = [unquote(p) for p in raw_parts]
        kind, conv, activity_id, member_id = self._classify(request.method, parts)

        raw = await request.read() if request.can_read_body else b""
        body: JsonDict | None = None
        if raw:
            try:
                parsed = json.loads(raw)
                body = parsed if isinstance(parsed, dict) else {"_json": parsed}
            except ValueError:
                body = {"_raw": raw.decode("utf-8", "replace")}
        call = ConnectorCall(
            verb=request.method,
            path=raw_path,
            conversation_id=conv,
            activity_id=activity_id,
            body=body,
            headers=dict(request.headers),
            kind=kind,
            member_id=member_id,
        )
        if kind in LOGIN_KINDS:
            # Microsoft Entra's side, not the connector's: kept apart, and never failed by
            # fail_next (`app_password` and `tenants` decide its answers).
            self.logins.append(call)
            response = self._answer(call, request)
            call.status = response.status
            return response
        self._record(call)

        failure = self._take_failure(kind)
        if failure is not None:
            call.status = failure.status
            call.response = {
                "error": {"code": failure.code, "message": f"injected failure {failure.status}"}
            }
            headers = (
                {"Retry-After": str(failure.retry_after)}
                if failure.retry_after is not None
                else None
            )
            return web.json_response(call.response, status=failure.status, headers=headers)

        response = self._answer(call, request)
        call.status = response.status
        if isinstance(response, web.Response) and response.body is not None:
            try:
                call.response = json.loads(response.text or "null")
            except ValueError:
                call.response = response.text
        return response

    def _answer(self, call: ConnectorCall, request: web.Request) -> web.Response:
        kind = call.kind
        if kind in ("reply", "send"):
            return web.json_response({"id": self._next_activity_id()})
        if kind == "history":
            return web.json_response({"id": self._next_activity_id()})
        if kind == "update":
            return web.json_response({"id": call.activity_id})
        if kind == "delete":
            return web.Response(status=200)
        if kind == "create_conversation":
            n = next(self._convs)
            answer: JsonDict = {"id": f"a:new-conv-{n}", "serviceUrl": self.url}
            if call.body and call.body.get("activity"):
                answer["activityId"] = self._next_activity_id()
            return web.json_response(answer, status=201)
        if kind == "get_member":
            assert call.member_id is not None and call.conversation_id is not None
            member = self.members.get(call.member_id)
            if member is None or member not in self._members_of(call.conversation_id):
                return self._error(
                    404,
                    "MemberNotFoundInConversation",
                    f"The member {call.member_id} was not found in the conversation.",
                )
            return web.json_response(member)
        if kind == "get_members":
            assert call.conversation_id is not None
            return web.json_response(self._members_of(call.conversation_id))
        if kind == "get_paged_members":
            assert call.conversation_id is not None
            return web.json_response(
                {"members": self._members_of(call.conversation_id), "continuationToken": None}
            )
        if kind == "team":
            return web.json_response(
                {"id": call.conversation_id, "name": "Test Team", "aadGroupId": "aad-group-1"}
            )
        if kind == "openid":
            # Microsoft Entra's tenant discovery, which MSAL reads before asking for a token.
            tenant = call.conversation_id or "botframework.com"
            if tenant not in self.tenants:
                return web.json_response(
                    {"error": "invalid_tenant", "error_description": f"AADSTS90002: {tenant}"},
                    status=400,
                )
            base = f"{LOGIN_URL}{tenant}"
            return web.json_response(
                {
                    "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                }
            )
        if kind == "instance":
            # Entra's instance metadata (MSAL reads it once it holds a token).
            hosts = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com"]
            return web.json_response(
                {
                    "tenant_discovery_endpoint": f"{LOGIN_URL}common/v2.0/.well-known/"
                    "openid-configuration",
                    "api-version": "1.1",
                    "metadata": [
                        {
                            "preferred_network": hosts[0],
                            "preferred_cache": hosts[1],
                            "aliases": hosts,
                        }
                    ],
                }
            )
        if kind == "token":
            form = _form(call)
            if self.app_password is not None and form.get("client_secret") != self.app_password:
                return web.json_response(
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided. "
                        "Ensure the secret being sent in the request is the client secret "
                        "value, not the client secret ID.",
                    },
                    status=401,
                )
            return web.json_response(
                {
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "ext_expires_in": 3600,
                    "access_token": "fake-connector-access-token",
                }
            )
        if request.method == "GET":
            return self._error(404, "NotFound", f"no such resource: {call.path}")
        return web.json_response({})
