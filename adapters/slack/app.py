"""Slack via slack-bolt: one AsyncApp for HTTP (POST /slack/events) and Socket Mode.

`process_before_response=True` makes bolt answer Slack only after our listener returns, and our
listeners return only after the core has committed: an acknowledged kudos is never lost.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import edge, forms, inbound
from adapters.slack.port import SlackPort
from adapters.slack.render import render
from bot.core import Allybot
from bot.events import Event
from bot.ids import ConversationKind
from bot.messages import Message, Private, Reply, ToConversation, ToUser, rich
from bot.outage import RETRY_AFTER, UNAVAILABLE, DatabaseUnavailable
from bot.settings import Settings

log = logging.getLogger(__name__)

# The Events API types the core takes (anything else is acknowledged and logged).
_EVENTS = (
    "reaction_added",
    "reaction_removed",
    "app_mention",
    "message",
    "member_joined_channel",
    "app_home_opened",
)
# Events about the bot itself that still matter (bolt's IgnoringSelfEvents keeps these too).
_OWN_EVENTS_KEPT = frozenset({"member_joined_channel", "member_left_channel"})

SORRY = "Sorry, something went wrong on my side. It has been logged; please try again."


class SlackAdapter:
    def __init__(self, core: Allybot, settings: Settings) -> None:
        if not settings.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN is not set; expected the bot token (xoxb-...)")
        if not settings.slack_signing_secret and not settings.slack_app_token:
            raise ValueError(
                "SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify requests "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )
        self.core = core
        self.settings = settings
        # One HTTP session for every Web API call: a new one per call halves throughput.
        self.session = aiohttp.ClientSession()
        # Calls made while answering Slack (bolt's listeners: views.open, auth.test).
        self.client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            session=self.session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            ],
        )
        # The port's calls (the jobs worker's sends, and profile reads) retry nothing on their
        # own: the queue owns retries, and a 429 comes back as DeliveryError(retry_after=...)
        # to hold its lane instead of putting a worker to sleep (retry_handlers=[], since None
        # would mean slack_sdk's default connection-error retry).
        self.port_client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            session=self.session,
            retry_handlers=[],
        )
        self.port = SlackPort(self.port_client)
        self.verifier = (
            SignatureVerifier(settings.slack_signing_secret)
            if settings.slack_signing_secret
            else None
        )
        self.app = AsyncApp(
            client=self.client,
            signing_secret=settings.slack_signing_secret or "socket-mode-only",
            process_before_response=True,
            # `handle` checks every HTTP request's signature (slack_sdk's SignatureVerifier)
            # before bolt sees it, and Socket Mode needs no signature: checking twice only
            # costs the door.
            request_verification_enabled=False,
            raise_error_for_unhandled_request=False,
        )
        self._auth: dict[str, Any] | None = None
        self._register()

    async def _workspace_url(self) -> str | None:
        """The workspace's URL, for message links; bolt's single-team auth doesn't keep it."""
        auth = await self._auth_test()
        if auth is None:
            return None
        return str(auth.get("url") or "") or None

    async def _auth_test(self) -> dict[str, Any] | None:
        """The token's auth.test answer (URL, bot user and bot id), asked once."""
        if self._auth is None:
            try:
                self._auth = dict((await self.client.auth_test()).data)  # type: ignore[arg-type]
            except Exception:
                log.warning("auth.test failed; message links will be missing", exc_info=True)
                return None
        return self._auth

    async def close(self) -> None:
        await self.session.close()

    def socket_mode_handler(self) -> Any:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
        from slack_sdk.socket_mode.aiohttp import SocketModeClient
        from slack_sdk.socket_mode.request import SocketModeRequest
        from slack_sdk.socket_mode.response import SocketModeResponse

        class CheckedSocketModeHandler(AsyncSocketModeHandler):
            """Socket Mode envelopes skip `handle`; their payloads get the same shape checks
            before bolt reads them (bolt's own middleware would come too late: it builds its
            arguments from the payload first). One we can't read is acknowledged, since Slack
            would only send it again, and logged."""

            async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
                try:
                    edge.check_socket_payload(req.payload)
                except edge.Rejected as exc:
                    log.warning("rejected a malformed Slack Socket Mode payload: %s", exc)
                    await client.send_socket_mode_response(
                        SocketModeResponse(envelope_id=req.envelope_id)
                    )
                    return
                await super().handle(client, req)

        return CheckedSocketModeHandler(self.app, self.settings.slack_app_token)

    # ----- HTTP route -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            # The signature is computed over UTF-8 text: anything else can't be checked.
            text = edge.check_encoding(body, request.charset)
        except edge.Rejected as exc:
            log.warning("rejected a Slack request: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        if not self._signed(body, request):
            # Checked before parsing, so an unsigned request learns nothing about our parser.
            log.warning("rejected a Slack request with a missing, invalid or stale signature")
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            # Shapes bolt or our translation would crash on are refused before they see them.
            body_read = edge.check_payload(text, request.content_type)
        except edge.Rejected as exc:
            log.warning("rejected a malformed Slack request: %s", exc)
            return web.json_response({"error": str(exc)}, status=400)
        if body_read.get("type") == "event_callback":
            fast = await self._accept_event(body_read)
            if fast is not None:
                return fast
        # The text already decoded and checked, rather than bolt's adapter reading it again.
        bolt_request = AsyncBoltRequest(
            body=text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # a multidict, as bolt's adapter passes
        )
        if bolt_request.body != body_read:
            # bolt reads any form containing the text "payload" as an interactive payload and
            # finds none: "/ally feedback the payload is wrong" would be lost. It gets the body
            # that was validated instead.
            bolt_request.body = body_read
            bolt_request.context = build_async_context(AsyncBoltContext({}), body_read)
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _accept_event(self, body: dict[str, Any]) -> web.StreamResponse | None:
        """An Events API callback, signed and validated: translated and handed to the core
        (which commits it to the inbox) without bolt's dispatch. Events need nothing of bolt
        but the listener lookup and the bot's own identity, and its middleware chain, context
        and per-request client cost the door as much again as the rest of its work
        (benchmarks/ingest.py). Socket Mode still goes through bolt, to the same `_on_event`.
        None: the token's identity is unknown (auth.test failed); bolt takes the request."""
        auth = await self._auth_test()
        if auth is None:
            return None
        event = body.get("event") or {}
        own = (event.get("user") and event.get("user") == auth.get("user_id")) or (
            event.get("bot_id") and event.get("bot_id") == auth.get("bot_id")
        )
        if own and event.get("type") not in _OWN_EVENTS_KEPT:
            return web.Response(status=200)  # as bolt's IgnoringSelfEvents: the bot's own doings
        if event.get("type") not in _EVENTS:
            await self._on_other_event(body)
            return web.Response(status=200)
        try:
            await self._apply_event(body, str(auth.get("user_id") or "") or None)
        except Exception as exc:
            answer = await self._on_error(exc)
            if answer is None:
                # bolt's answer to a listener that raised: Slack delivers the event again.
                return web.json_response({"error": "internal error"}, status=500)
            return await to_aiohttp_response(answer)
        return web.Response(status=200)

    def _signed(self, body: bytes, request: web.Request) -> bool:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        # ASCII digits, not too many: int() takes "²", and abs(now - int(...)) overflows on a
        # 400-digit one; hmac.compare_digest raises on non-ASCII text.
        if self.verifier is None or not (timestamp.isascii() and timestamp.isdigit()):
            return False
        if len(timestamp) > 12:
            return False
        if not signature or not signature.isascii():
            return False
        return self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)

    # ----- listeners --------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.error(self._on_error)
        app.command(re.compile(r"^/(ally|kudos|feedback|ask)$"))(self._on_command)
        for event_type in _EVENTS:
            app.event(event_type)(self._on_event)
        app.action(re.compile(".*"))(self._on_block_action)
        app.message_shortcut(re.compile(".*"))(self._on_message_shortcut)
        app.view_submission(re.compile(".*"))(self._on_view_submission)
        # Anything else Slack sends is acknowledged and logged, never an error.
        app.event(re.compile(".*"))(self._on_other_event)
        app.command(re.compile(".*"))(self._unknown_command)
        app.view(re.compile(".*"))(self._ack_only)
        app.shortcut(re.compile(".*"))(self._ack_only)
        app.options(re.compile(".*"))(self._ack_only)

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        event = inbound.from_command(body)
        try:
            reply = await self.core.handle(event)
        except DatabaseUnavailable:
            await ack(text=UNAVAILABLE, response_type="ephemeral")
            return
        except Exception:
            log.exception("command %s failed", body.get("command"))
            await ack(text=SORRY, response_type="ephemeral")
            return
        if reply is None:
            await ack()
        else:
            await ack(response_type="ephemeral", **render(reply.message))

    async def _on_event(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._apply_event(body, context.bot_user_id)

    async def _apply_event(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        event = inbound.from_event(
            body, bot_user_id=bot_user_id, workspace_url=await self._workspace_url()
        )
        if event is None:
            log.debug("ignored %s event", (body.get("event") or {}).get("type"))
            return
        reply = await self.core.handle(event)
        if reply is not None:
            await self._reply(event, reply)

    async def _on_error(self, error: Exception) -> BoltResponse | None:
        """Whatever a listener raised. During a database outage: 503 and no ack, so Slack
        delivers the event again (the door deduplicates); the core logged the outage once."""
        if isinstance(error, DatabaseUnavailable):
            return BoltResponse(
                status=503,
                body='{"error": "temporarily unavailable"}',
                headers={"Content-Type": "application/json", "Retry-After": str(RETRY_AFTER)},
            )
        log.error("a Slack listener failed: %s", error, exc_info=error)  # as bolt's default
        return None

    async def _say_unavailable(self, body: dict[str, Any]) -> None:
        """A button, shortcut or form met an outage (Slack doesn't send those again): tell the
        person where they are, straight through the Web API (the queue is in the database)."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        try:
            if channel:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=UNAVAILABLE)
            elif user:
                await self.client.chat_postMessage(channel=user, text=UNAVAILABLE)
        except Exception:
            log.warning("could not tell %s that Allybot is unavailable", user, exc_info=True)

    async def _on_block_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        try:
            await self._block_action(body)
        except DatabaseUnavailable:
            await self._say_unavailable(body)

    async def _block_action(self, body: dict[str, Any]) -> None:
        for event in inbound.from_block_action(body):
            reply = await self.core.handle(event)
            if reply is None:
                continue
            if reply.form is not None:
                channel = event.conversation.id if event.conversation else None
                await self._open_form(body, reply, channel)
                continue
            # A button in a channel message answers privately there; one in the App Home
            # (no channel) answers in the DM with the bot.
            target: Private | ToUser = (
                Private(user=event.actor, conversation=event.conversation)
                if event.conversation is not None
                else ToUser(user=event.actor)
            )
            await self.core.deliver_reply(event, reply, target)

    async def _on_message_shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """A message shortcut ("Send as feedback"): its callback id is the core's action name."""
        event = forms.from_message_shortcut(body, await self._workspace_url())
        try:
            reply = await self.core.handle(event)
        except DatabaseUnavailable:
            await ack()
            await self._say_unavailable(body)
            return
        await ack()
        if reply is None:
            return
        if reply.form is not None:
            await self._open_form(body, reply, event.message.conversation.id)
        else:
            target = Private(user=event.actor, conversation=event.message.conversation)
            await self.core.deliver_reply(event, reply, target)

    async def _on_view_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        event = forms.from_view_submission(body)
        try:
            reply = await self.core.handle(event)
        except DatabaseUnavailable:  # the form stays open, to be sent again in a minute
            reply = Reply(message=Message(text=rich(UNAVAILABLE)), form_errors={"": UNAVAILABLE})
        if reply is not None and reply.form_errors:
            # The modal stays open with each problem next to its field.
            await ack(response_action="errors", errors=forms.field_errors(reply, body))
            return
        if reply is not None and reply.form is not None:
            await ack(response_action="update", view=forms.modal(reply.form, None))
            return
        await ack()
        if reply is not None:
            target: Private | ToUser = (
                Private(user=event.actor, conversation=event.conversation)
                if event.conversation is not None
                else ToUser(user=event.actor)
            )
            await self.core.deliver_reply(event, reply, target)

    async def _open_form(self, body: dict[str, Any], reply: Reply, channel: str | None) -> None:
        assert reply.form is not None
        try:
            await self.client.views_open(
                trigger_id=str(body.get("trigger_id") or ""),
                view=forms.modal(reply.form, channel),
            )
        except Exception:  # an expired trigger (over 3 s): say so rather than stay silent
            log.warning("could not open the %s modal", reply.form.form_id, exc_info=True)

    async def _on_other_event(self, body: dict[str, Any]) -> None:
        log.info("ignored Slack event type %r", (body.get("event") or {}).get("type"))

    async def _unknown_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        # Only reachable if the app's manifest declares a command this version doesn't know.
        log.warning("unknown slash command %r", body.get("command"))
        await ack(
            text=f"Allybot doesn't know {body.get('command')}; try /ally help.",
            response_type="ephemeral",
        )

    async def _ack_only(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        log.info("acknowledged unhandled Slack %s payload", body.get("type"))
        await ack()

    async def _reply(self, event: Event, reply: Reply) -> None:
        """Answers a mention or DM: in a DM as a normal message, in a channel privately."""
        message = getattr(event, "message", None)
        if message is None:
            return
        conv = message.conversation
        target: ToConversation | Private
        if conv.kind is ConversationKind.DIRECT:
            target = ToConversation(conversation=conv, thread_id=message.thread_id)
        else:
            target = Private(user=event.actor, conversation=conv)
        await self.core.deliver_reply(event, reply, target)
