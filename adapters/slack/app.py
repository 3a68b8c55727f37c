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
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
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
from bot.messages import Private, Reply, ToConversation, ToUser
from bot.settings import Settings

log = logging.getLogger(__name__)

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
            request_verification_enabled=bool(settings.slack_signing_secret),
            raise_error_for_unhandled_request=False,
        )
        self._url: str | None = None
        self._register()

    async def _workspace_url(self) -> str | None:
        """The workspace's URL, for message links; bolt's single-team auth doesn't keep it."""
        if self._url is None:
            try:
                self._url = str((await self.client.auth_test()).get("url") or "")
            except Exception:
                log.warning("auth.test failed; message links will be missing", exc_info=True)
                return None
        return self._url or None

    async def close(self) -> None:
        await self.session.close()

    def socket_mode_handler(self) -> Any:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        return AsyncSocketModeHandler(self.app, self.settings.slack_app_token)

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
        bolt_request = await to_bolt_request(request)
        if bolt_request.body != body_read:
            # bolt reads any form containing the text "payload" as an interactive payload and
            # finds none: "/ally feedback the payload is wrong" would be lost. It gets the body
            # that was validated instead (its signature check still uses the raw body).
            bolt_request.body = body_read
            bolt_request.context = build_async_context(AsyncBoltContext({}), body_read)
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

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
        app.command(re.compile(r"^/(ally|kudos|feedback|ask)$"))(self._on_command)
        app.event("reaction_added")(self._on_event)
        app.event("reaction_removed")(self._on_event)
        app.event("app_mention")(self._on_event)
        app.event("message")(self._on_event)
        app.event("member_joined_channel")(self._on_event)
        app.event("app_home_opened")(self._on_event)
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
        except Exception:
            log.exception("command %s failed", body.get("command"))
            await ack(text=SORRY, response_type="ephemeral")
            return
        if reply is None:
            await ack()
        else:
            await ack(response_type="ephemeral", **render(reply.message))

    async def _on_event(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        event = inbound.from_event(
            body, bot_user_id=context.bot_user_id, workspace_url=await self._workspace_url()
        )
        if event is None:
            log.debug("ignored %s event", (body.get("event") or {}).get("type"))
            return
        reply = await self.core.handle(event)
        if reply is not None:
            await self._reply(event, reply)

    async def _on_block_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
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
        reply = await self.core.handle(event)
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
        reply = await self.core.handle(event)
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
