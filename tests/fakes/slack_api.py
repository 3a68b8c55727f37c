"""A fake Slack Web API served by a real aiohttp server on 127.0.0.1.

Point ``slack_sdk.web.async_client.AsyncWebClient(base_url=fake.url)`` at it (``fake.url`` ends in
``/api/`` as slack_sdk expects). Every call is recorded as a :class:`SlackCall`.

Wire facts this fake accounts for (slack_sdk 3.47):

* Methods that slack_sdk sends with ``json=`` (chat.postMessage, chat.update, chat.postEphemeral,
  views.*) arrive as a JSON body; methods sent with ``params=`` (auth.test, conversations.open,
  files.getUploadURLExternal, ...) arrive as a POST whose arguments are in the *query string*
  with an empty body; methods marked ``http_verb="GET"`` (users.info, chat.getPermalink, ...)
  arrive as GET with query parameters; ``data=`` arrives form-encoded. All of these are merged
  into ``args``.
* Booleans sent through ``params`` become ``"1"``/``"0"`` strings.
* A ``token=`` keyword passed to a client method is moved into the ``Authorization`` header.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer

__all__ = ["FakeSlackApi", "SlackCall"]

JsonDict = dict[str, Any]


@dataclass
class SlackCall:
    """One request received by :class:`FakeSlackApi`."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    http_verb: str = "POST"
    path: str = ""
    status: int = 200
    response: JsonDict | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None
    remaining: int
    extra: dict[str, Any] = field(default_factory=dict)


def _maybe_json(value: Any) -> Any:
    """Decode a string that holds a JSON object or array (``blocks``, ``view``, ``files``...).

    Only objects and arrays are decoded, so ``text="123"`` or ``text="true"`` stay strings.
    """
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            try:
                return json.loads(stripped)
            except ValueError:
                return value
    return value


class FakeSlackApi(FakeServer[SlackCall]):
    """Fake Slack Web API: ``async with FakeSlackApi() as slack: ...``."""

    def __init__(
        self,
        token: str = "xoxb-test-token",
        *,
        app_token: str = "xapp-1-test",
        team_id: str = "T0001",
        team: str = "Test Team",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "allybot",
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host=host)
        self.token = token
        # The app-level token, accepted only by apps.connections.open (Socket Mode).
        self.app_token = app_token
        # What apps.connections.open answers: a new URL per call (FakeSocketMode.attach).
        self.socket_mode_url: Callable[[], str] | None = None
        self.team_id = team_id
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.users: dict[str, JsonDict] = {}
        self.dnd: dict[str, int] = {}  # user id -> snoozed until (Unix time), for dnd.info
        # Channels conversations.info knows, and whether the bot is in each; others: not found.
        self.channels: dict[str, bool] = {}
        # channel name -> id, for conversations.create (a taken name answers name_taken)
        self.channel_names: dict[str, str] = {"general": "C1"}
        self._failures: dict[str, list[_Failure]] = {}
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self.app.router.add_route("*", "/api/{method}", self._handle_api)
        self.app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        self.app.router.add_post("/response/{key}", self._handle_response_url)
        self._register_bot_user()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """Base URL for ``AsyncWebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.root_url}api/"

    def response_url(self, key: str = "1") -> str:
        """A ``response_url`` for slash-command/interaction payloads, recorded as method
        ``"response_url"`` (args = the JSON body, plus ``_key``)."""
        return f"{self.root_url}response/{key}"

    # ------------------------------------------------------------------ registry & control

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "UTC",
        is_bot: bool = False,
        real_name: str | None = None,
        deleted: bool = False,
        tz_offset: int = 0,
        email: str | None = None,
    ) -> JsonDict:
        """Register a user returned by ``users.info``; returns the stored user object."""
        real = real_name if real_name is not None else name
        profile: JsonDict = {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": real,
            "real_name_normalized": real,
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.bot_id if user_id == self.bot_user_id else f"B{user_id}"
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real,
            "deleted": deleted,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "updated": 1700000000,
            "profile": profile,
        }
        self.users[user_id] = user
        return user

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``
        with HTTP ``status`` (and a ``Retry-After`` header when ``retry_after`` is given);
        ``extra`` fields join the body (missing_scope's ``needed`` and ``provided``)."""
        self._failures.setdefault(method, []).append(
            _Failure(
                error=error,
                status=status,
                retry_after=retry_after,
                remaining=times,
                extra=dict(extra or {}),
            )
        )

    def reset(self) -> None:
        """Forget recorded calls and pending failures, and restore the users registry."""
        self.calls.clear()
        self._failures.clear()
        self.users.clear()
        self.dnd.clear()
        self.channels.clear()
        self._register_bot_user()

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[SlackCall], bool] | None = None,
    ) -> list[SlackCall]:
        """Wait until at least ``count`` calls of ``method`` (matching ``predicate``) arrived and
        return all matching calls; raise AssertionError listing every recorded call on timeout."""
        return await self._wait_until(
            lambda c: c.method == method and (predicate is None or predicate(c)),
            count,
            timeout,
            f"{count} call(s) to {method!r}{' matching predicate' if predicate else ''}",
        )

    def _describe_call(self, call: SlackCall) -> str:
        return f"{call.http_verb} {call.method} -> {call.status} {call.response} args={call.args}"

    # ------------------------------------------------------------------ helpers

    def _register_bot_user(self) -> None:
        self.add_user(self.bot_user_id, self.bot_name, is_bot=True)

    def _next_ts(self) -> str:
        n = next(self._ts_counter) * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    @staticmethod
    def _json(
        body: JsonDict, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    async def _parse_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for key, value in request.query.items():
            args.setdefault(key, value)
        if request.method in ("POST", "PUT") and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if isinstance(body, dict):
                        args.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key in form:
                    item = form.get(key)
                    if isinstance(item, web.FileField):
                        args[key] = {
                            "filename": item.filename,
                            "content_type": item.content_type,
                            "content": item.file.read(),
                        }
                    else:
                        args[key] = item
            else:
                raw = await request.read()
                if raw:
                    args["_raw_body"] = raw
        return {k: _maybe_json(v) for k, v in args.items()}

    def _check_auth(self, headers: dict[str, str], method: str = "") -> str | None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not auth or not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
            return "not_authed"
        sent = auth[len("Bearer ") :].strip()
        # As Slack: the app-level token opens Socket Mode connections and does nothing else.
        expected, other = (
            (self.app_token, self.token)
            if method == "apps.connections.open"
            else (self.token, self.app_token)
        )
        if sent == other:
            return "not_allowed_token_type"
        if sent != expected:
            return "invalid_auth"
        return None

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    # ------------------------------------------------------------------ handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = dict(request.headers)
        try:
            args = await self._parse_args(request)
        except ValueError:
            args = {}
            call = SlackCall(method, args, headers, request.method, request.path, 200)
            call.response = {"ok": False, "error": "invalid_json"}
            self._record(call)
            return self._json(call.response)
        call = SlackCall(method, args, headers, request.method, request.path)
        self._record(call)

        extra_headers: dict[str, str] = {}
        auth_error = self._check_auth(headers, method)
        if auth_error is not None:
            body: JsonDict = {"ok": False, "error": auth_error}
        elif (failure := self._take_failure(method)) is not None:
            body = {**failure.extra, "ok": False, "error": failure.error}
            call.status = failure.status
            if failure.retry_after is not None:
                extra_headers["Retry-After"] = str(failure.retry_after)
        else:
            body = self._answer(method, args)
        call.response = body
        return self._json(body, status=call.status, headers=extra_headers or None)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        file_id = request.match_info["file_id"]
        self._record(
            SlackCall(
                "upload",
                {"file_id": file_id, "size": len(data), "content": data},
                dict(request.headers),
                request.method,
                request.path,
            )
        )
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        args = await self._parse_args(request)
        args["_key"] = request.match_info["key"]
        self._record(
            SlackCall("response_url", args, dict(request.headers), request.method, request.path)
        )
        return web.Response(text="ok", content_type="text/html")

    # ------------------------------------------------------------------ canned answers

    def _answer(self, method: str, args: dict[str, Any]) -> JsonDict:
        handler = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "users.info": self._users_info,
            "dnd.info": self._dnd_info,
            "conversations.info": self._conversations_info,
            "views.publish": self._views,
            "views.open": self._views,
            "views.update": self._views,
            "views.push": self._views,
            "files.upload": self._files_upload,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }.get(method)
        if handler is None:
            return {"ok": True}
        return handler(args)

    def _auth_test(self, args: dict[str, Any]) -> JsonDict:
        return {
            "ok": True,
            "url": "https://example.slack.com/",
            "team": self.team,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> JsonDict:
        if self.socket_mode_url is None:
            # Not a documented error: this fake has no Socket Mode server attached.
            return {"ok": False, "error": "no_fake_socket_mode_server"}
        return {"ok": True, "url": self.socket_mode_url()}

    @staticmethod
    def _channel_for(channel: str) -> str:
        # Posting to a user id lands in the bot's DM with that user, like conversations.open.
        if channel[:1] in ("U", "W"):
            return "D" + channel
        return channel

    def _chat_post_message(self, args: dict[str, Any]) -> JsonDict:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message: JsonDict = {
            "type": "message",
            "text": args.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return {
            "ok": True,
            "channel": self._channel_for(str(channel)),
            "ts": ts,
            "message": message,
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> JsonDict:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> JsonDict:
        if not args.get("channel") or not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        body: JsonDict = {
            "ok": True,
            "channel": args["channel"],
            "ts": args["ts"],
            "text": args.get("text", ""),
        }
        body["message"] = {
            "type": "message",
            "text": args.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            **({"blocks": args["blocks"]} if args.get("blocks") is not None else {}),
        }
        return body

    def _chat_delete(self, args: dict[str, Any]) -> JsonDict:
        if not args.get("channel") or not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_get_permalink(self, args: dict[str, Any]) -> JsonDict:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", ""))
        if not channel or not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, args: dict[str, Any]) -> JsonDict:
        users = args.get("users")
        if isinstance(users, list):
            user_ids = [str(u) for u in users]
        else:
            user_ids = [u.strip() for u in str(users or "").split(",") if u.strip()]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not user_ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + user_ids[0]}}

    def _conversations_create(self, args: dict[str, Any]) -> JsonDict:
        """As Slack answers: name_taken for a name in use, invalid_name_* for a name it
        rejects (lowercase letters, digits, hyphens and underscores, at most 80)."""
        name = str(args.get("name") or "")
        if not name:
            return {"ok": False, "error": "invalid_name_required"}
        if len(name) > 80:
            return {"ok": False, "error": "invalid_name_maxlength"}
        if not all(c.islower() or c.isdigit() or c in "-_" for c in name):
            return {"ok": False, "error": "invalid_name_specials"}
        if name in self.channel_names:
            return {"ok": False, "error": "name_taken"}
        channel_id = self._next_id("C")
        self.channel_names[name] = channel_id
        private = str(args.get("is_private", "")).lower() in ("1", "true")
        return {
            "ok": True,
            "channel": {
                "id": channel_id,
                "name": name,
                "is_channel": not private,
                "is_group": private,
                "is_private": private,
                "created": 1700000000,
                "creator": self.bot_user_id,
                "is_member": True,
            },
        }

    def _conversations_invite(self, args: dict[str, Any]) -> JsonDict:
        channel = str(args.get("channel") or "")
        if channel not in self.channel_names.values():
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "no_user"}
        if any(u not in self.users for u in users):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": channel}}

    def _users_info(self, args: dict[str, Any]) -> JsonDict:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _dnd_info(self, args: dict[str, Any]) -> JsonDict:
        """Shaped as dnd.info in tests/fixtures/slack/web-api-openapi (checked by a test); a user
        put in ``self.dnd`` is snoozed until that Unix time, anyone else has DND off."""
        user = str(args.get("user", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        until = self.dnd.get(user)
        answer: JsonDict = {
            "ok": True,
            "dnd_enabled": until is not None,
            "next_dnd_start_ts": 1,
            "next_dnd_end_ts": 1,
            "snooze_enabled": until is not None,
        }
        if until is not None:
            answer["snooze_endtime"] = until
        return answer

    def _conversations_info(self, args: dict[str, Any]) -> JsonDict:
        channel = str(args.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": self.channels[channel],
            },
        }

    def set_status(self, user_id: str, text: str, emoji: str = "", expiration: int = 0) -> None:
        """Sets a registered user's profile status, as users.info returns it."""
        profile = self.users[user_id]["profile"]
        profile.update(
            {"status_text": text, "status_emoji": emoji, "status_expiration": expiration}
        )

    def _views(self, args: dict[str, Any]) -> JsonDict:
        view = args.get("view")
        view_obj: JsonDict = dict(view) if isinstance(view, dict) else {}
        view_id = str(args.get("view_id") or self._next_id("V"))
        view_obj.update(
            {
                "id": view_id,
                "team_id": self.team_id,
                "app_id": "A0001",
                "bot_id": self.bot_id,
                "hash": f"{self._next_ts()}.hash",
                "state": {"values": {}},
                "root_view_id": view_id,
                "previous_view_id": None,
            }
        )
        if args.get("external_id"):
            view_obj["external_id"] = args["external_id"]
        return {"ok": True, "view": view_obj}

    def _files_upload(self, args: dict[str, Any]) -> JsonDict:
        file_id = self._next_id("F")
        name = str(args.get("filename") or "file")
        return {"ok": True, "file": {"id": file_id, "name": name, "title": args.get("title", name)}}

    def _files_get_upload_url(self, args: dict[str, Any]) -> JsonDict:
        file_id = self._next_id("F")
        return {"ok": True, "upload_url": f"{self.root_url}upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any]) -> JsonDict:
        files = args.get("files")
        items = files if isinstance(files, list) else []
        return {
            "ok": True,
            "files": [
                {"id": f.get("id"), "title": f.get("title"), "name": f.get("title")}
                for f in items
                if isinstance(f, dict)
            ],
        }
