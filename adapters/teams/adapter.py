"""The Teams adapter: POST /api/messages -> botbuilder turn -> core event -> reply in the turn.

The core handles each event inside the turn, before the HTTP answer goes back, so Teams is only
acknowledged once the effect is committed (a retry of the same activity is then deduplicated).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, Attachment

from adapters.teams import edge, forms, inbound, render
from adapters.teams.addresses import Addresses, Route
from adapters.teams.auth import Authenticator, BotAuthentication
from adapters.teams.port import TeamsPort
from bot.core import Allybot
from bot.events import Event, MessagePosted
from bot.outage import RETRY_AFTER, UNAVAILABLE, DatabaseUnavailable
from bot.settings import Settings

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
SUBMIT_ACTION = "composeExtension/submitAction"
FETCH_TASK = "composeExtension/fetchTask"
_TURN_KEY = "allybot.turn"
_APP_TYPES = {"multitenant", "singletenant", "userassignedmsi"}


@dataclass(frozen=True, slots=True)
class _BotConfig:
    """The configuration object botbuilder reads (attribute names are botbuilder's)."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


@dataclass
class _Turn:
    """What one inbound request produced, for the HTTP answer."""

    body: Mapping[str, Any]
    invoke_answer: tuple[int, Any] | None = None
    compose_extension: bool = False
    failed: bool = False
    unavailable: bool = False  # the database was away: answered 503 unless the person was told


def _check_settings(settings: Settings) -> None:
    app_type = settings.microsoft_app_type.lower()
    if app_type not in _APP_TYPES:
        raise ValueError(
            f"MICROSOFT_APP_TYPE is {settings.microsoft_app_type!r}; expected MultiTenant, "
            "SingleTenant or UserAssignedMSI"
        )
    if not settings.microsoft_app_id:
        if not settings.teams_enabled:
            raise ValueError(
                "Teams needs MICROSOFT_APP_ID (the bot's Microsoft App ID) so that inbound "
                "requests are authenticated. For local development only, TEAMS_ENABLED=true runs "
                "without it, with authentication off."
            )
        log.warning(
            "TEAMS WITHOUT AUTHENTICATION: MICROSOFT_APP_ID is empty and TEAMS_ENABLED=true, so "
            "/api/messages accepts unauthenticated requests and the bot sends replies to any "
            "serviceUrl a request names. Use this for local development and tests only."
        )
        return
    if app_type != "userassignedmsi" and not settings.microsoft_app_password:
        raise ValueError("MICROSOFT_APP_PASSWORD is empty; the bot's client secret is required")
    if app_type != "multitenant" and not settings.microsoft_app_tenant_id:
        raise ValueError(
            f"MICROSOFT_APP_TENANT_ID is empty; a {settings.microsoft_app_type} bot needs it"
        )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _read_activity(request: web.Request) -> Mapping[str, Any] | web.Response:
    """The activity JSON, or the 4xx answer for a body botbuilder would choke on. Runs before
    authentication, which needs the parsed body: so it bounds depth and checks shape first."""
    if request.content_type != "application/json":
        return _error(415, "expected Content-Type: application/json")
    try:
        return edge.read_activity(await request.read(), request.charset)
    except edge.Rejected as exc:
        log.warning("rejected a Teams request: %s", exc)
        return _error(400, str(exc))


class TeamsAdapter:
    def __init__(self, core: Allybot, settings: Settings) -> None:
        _check_settings(settings)
        self._core = core
        self._directory = core.services.directory
        self._clock = core.services.clock
        self._addresses = Addresses()
        config = _BotConfig(
            APP_ID=settings.microsoft_app_id,
            APP_PASSWORD=settings.microsoft_app_password,
            APP_TYPE=settings.microsoft_app_type,
            APP_TENANTID=settings.microsoft_app_tenant_id,
        )
        self._cloud = CloudAdapter(BotAuthentication(config))
        self._cloud.on_turn_error = self._on_turn_error
        # Screens tokens and caches signing keys without blocking (botbuilder's cache blocks).
        self._auth = Authenticator() if settings.microsoft_app_id else None
        self.port = TeamsPort(
            self._cloud,
            app_id=settings.microsoft_app_id,
            directory=self._directory,
            addresses=self._addresses,
            thanks_reactions=tuple(settings.teams_kudos_reactions),
        )

    # ----- HTTP -------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await _read_activity(request)
        if isinstance(body, web.Response):
            return body
        try:
            activity = Activity().deserialize(dict(body))
        except Exception:  # msrest raises several types for ill-typed fields
            log.info("rejected an activity botbuilder cannot read", exc_info=True)
            return _error(400, "the body is not a valid Bot Framework activity")
        turn = _Turn(body)

        async def logic(context: Any) -> None:
            context.turn_state[_TURN_KEY] = turn
            try:
                await self._on_turn(context, turn)
            except DatabaseUnavailable:  # the core logged the outage once
                await self._unavailable(context, turn)

        header = request.headers.get("Authorization", "")
        if self._auth is None:
            # Authentication is off (TEAMS_ENABLED, local only): botbuilder would still try to
            # validate a header it is given, fetching keys from the network.
            header = ""
        else:
            problem = await self._auth.check(header)
            if problem is not None:
                log.warning("rejected a Teams request: %s", problem)
                return _error(401, "unauthorized")
        try:
            # Authenticates the request (when MICROSOFT_APP_ID is set), then runs the turn.
            await self._cloud.process_activity(header, activity, logic)
        except PermissionError as exc:
            log.warning("rejected a Teams request: %s", exc)
            return _error(401, "unauthorized")
        except Exception:
            log.exception("could not start a turn for a %s activity", body["type"])
            return _error(500, "internal error")
        return self._answer(turn)

    @staticmethod
    def _answer(turn: _Turn) -> web.Response:
        if turn.invoke_answer is not None:
            status, payload = turn.invoke_answer
            if payload is None:
                return web.Response(status=status)
            return web.json_response(payload, status=status)
        if turn.failed:
            # Not acknowledged: the effect may not have been committed.
            return _error(500, "internal error")
        if turn.unavailable:
            response = _error(503, "temporarily unavailable")
            response.headers["Retry-After"] = str(RETRY_AFTER)
            return response
        # Invokes nobody answered (ignored ones) get an empty 200 too, not botbuilder's 501.
        return web.Response(status=200)

    async def _unavailable(self, context: Any, turn: _Turn) -> None:
        """The database is away. Someone who asked Allybot something is told to try again in
        a minute; anything else (reactions, joins, channel chatter) gets a 503, not an ack."""
        env = inbound.read_envelope(turn.body, self._clock.now())
        name = turn.body.get("name")
        if turn.compose_extension or (env is not None and name in (FETCH_TASK, SUBMIT_ACTION)):
            turn.invoke_answer = (200, _compose_message(UNAVAILABLE))
            return
        if env is None or env.kind != "message" or not _addressed(env):
            turn.unavailable = True
            return
        try:
            await context.send_activity(UNAVAILABLE)
        except Exception:  # the person wasn't told: not acknowledged either
            log.warning("could not tell the user that Allybot is unavailable", exc_info=True)
            turn.unavailable = True

    async def _on_turn_error(self, context: Any, error: Exception) -> None:
        log.error("Teams turn failed", exc_info=error)
        turn = context.turn_state.get(_TURN_KEY)
        if not isinstance(turn, _Turn):
            return
        turn.failed = True
        if turn.compose_extension:
            turn.invoke_answer = (200, _compose_message(SORRY))
            return
        if turn.body.get("type") == "message":
            try:
                await context.send_activity(SORRY)
            except Exception:  # the connector itself may be what failed
                log.warning("could not tell the user about the failure", exc_info=True)

    # ----- turns ------------------------------------------------------------------------------

    async def _on_turn(self, context: Any, turn: _Turn) -> None:
        env = inbound.read_envelope(turn.body, self._clock.now())
        if env is None:
            log.info(
                "ignored a %s activity without tenant, conversation or sender",
                turn.body.get("type"),
            )
            return
        self._addresses.remember(env.workspace.id, env.service_url, env.bot_id)
        match env.kind:
            case "message":
                await self._remember_personal_route(env)
                await self._on_message(context, env)
            case "invoke":
                await self._remember_personal_route(env)
                await self._on_invoke(context, env, turn)
            case "messageReaction":
                for event in inbound.reaction_events(env):
                    await self._core.handle(event)
            case "conversationUpdate":
                if env.personal and inbound.bot_was_added(env):
                    await self._remember_personal_route(env)
                for joined in inbound.member_events(env):
                    await self._core.handle(joined)
            case _:
                log.info("ignored a %s activity", env.kind)

    async def _on_message(self, context: Any, env: inbound.Envelope) -> None:
        value = env.raw.get("value")
        # A form card's Action.Submit comes back as a message whose value names the form.
        event: Event | None
        if forms.is_submission(value):
            event = forms.submitted(env, value)
        else:
            event = inbound.message_event(env)
        if event is None:
            return
        reply = await self._core.handle(event)
        if reply is not None:
            # A reply to the activity: in a channel it lands in the same thread.
            activity = render.to_activity(reply.message)
            if reply.form is not None:
                activity.attachments = [
                    Attachment(content_type=render.ADAPTIVE_CARD, content=forms.card(reply.form))
                ]
            await context.send_activity(activity)

    async def _on_invoke(self, context: Any, env: inbound.Envelope, turn: _Turn) -> None:
        """Message actions (the manifest's message-extension commands) reach the core under
        their own name: commandId "giveKudos" is the core's message action "give_kudos", the
        same name Slack's shortcut callback ids use. A form the core answers with opens in a
        task module; its filled-in submission comes back as the core's form."""
        name = env.raw.get("name")
        value = env.raw.get("value")
        command = value.get("commandId") if isinstance(value, Mapping) else None
        if name not in (FETCH_TASK, SUBMIT_ACTION) or not isinstance(command, str):
            log.info("answered an unhandled invoke %r (%r) with an empty 200", name, command)
            turn.invoke_answer = (200, None)
            return
        assert isinstance(value, Mapping)
        turn.compose_extension = True
        data = value.get("data")
        if name == SUBMIT_ACTION and forms.is_submission(data):
            reply = await self._core.handle(forms.submitted(env, data))
        else:
            author = inbound.payload_author(value)
            author_id = await self._bot_framework_id(context, author)
            event = inbound.message_action_event(env, action_name(command), author, author_id)
            reply = await self._core.handle(event)
        if reply is not None and reply.form is not None:
            turn.invoke_answer = (200, forms.task_continue(reply.form))
            return
        text = render.render_plain(reply.message.text) if reply is not None else "Done."
        turn.invoke_answer = (200, _compose_message(text))

    async def _bot_framework_id(
        self, context: Any, author: inbound.PayloadAuthor | None
    ) -> str | None:
        """Message payloads name people by AAD object id; the core knows them by their "29:" id,
        which the connector's member look-up returns (it accepts either)."""
        if author is None:
            return None
        if author.is_bot:
            return author.id
        try:
            member = await TeamsInfo.get_member(context, author.id)
        except Exception:  # any failure: fall back to the AAD id rather than lose the kudos
            log.info("could not resolve AAD id %s; using it as the user id", author.id)
            return author.id
        member_id = getattr(member, "id", None)
        return str(member_id) if member_id else author.id

    async def _remember_personal_route(self, env: inbound.Envelope) -> None:
        """A personal chat is how the bot reaches someone privately later: store it."""
        if not env.personal or env.actor_profile.is_bot:
            return
        route = Route(env.conversation.id, env.service_url, env.bot_id)
        if self._addresses.route_unchanged(env.actor, route):
            return  # spare the write on every message
        await self._directory.remember_route(env.actor, route.encode())
        self._addresses.note_route(env.actor, route)


def _addressed(env: inbound.Envelope) -> bool:
    """Whether a message activity was for Allybot (a chat with it, a mention, a card's
    button), rather than a channel post it reads along."""
    if forms.is_submission(env.raw.get("value")):
        return True
    event = inbound.message_event(env)
    return event is not None and (not isinstance(event, MessagePosted) or event.addressed_to_bot)


def action_name(command_id: str) -> str:
    """A manifest command id ("sendAsFeedback") as the core's action name ("send_as_feedback")."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", command_id).lower()


def _compose_message(text: str) -> dict[str, Any]:
    """A message extension's answer that shows `text` to the person who used it."""
    return {"composeExtension": {"type": "message", "text": text}}
