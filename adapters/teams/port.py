"""The Teams ChatPort: proactive sends, edits and profile look-ups through the Bot Connector.

Called by the core's jobs worker, outside any inbound turn, so every call opens a proactive turn
(continue_conversation, or create_conversation for a first DM). Failures become DeliveryError so
the core's queue decides about retries; botbuilder's own HTTP retries are switched off for these
calls, or a 5xx would be retried twice over and Retry-After slept on in a worker thread.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.exceptions import ClientRequestError

from adapters.teams import render
from adapters.teams.addresses import Address, Addresses, Route
from adapters.teams.inbound import THREAD_MARK, is_bot_id
from bot.ids import Platform, UserRef, WorkspaceRef
from bot.messages import Message, Target, ToConversation
from bot.ports import AddressBook, Capabilities, DeliveryError, Rejection, Sent, UserInfo

log = logging.getLogger(__name__)

T = TypeVar("T")

CHANNEL_ID = "msteams"
# When nobody in a tenant has talked to the bot yet there is no service URL to send to.
UNKNOWN_TENANT_RETRY = 300.0
# A 429 without a usable Retry-After.
RATE_LIMITED_WAIT = 5.0
# 403s about one conversation (the bot was removed from it, the person blocked it), not about
# the bot: the message is given up, and nobody is alerted.
ONE_CONVERSATION_403 = frozenset({"BotNotInConversationRoster", "ConversationBlockedByUser"})


@dataclass(frozen=True, slots=True)
class _Where:
    """One conversation on one Bot Connector."""

    service_url: str
    conversation_id: str
    tenant: str
    bot_id: str | None


def _retry_after(response: Any) -> float | None:
    value = getattr(response, "headers", {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def delivery_error(exc: BaseException) -> DeliveryError | None:
    """Maps Bot Connector failures; None for anything that is not a delivery failure (a bug)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        reason = f"Bot Connector answered HTTP {status}: {exc}"
        if status in (408, 429) or status >= 500:
            retry_after = _retry_after(response)
            if status == 429 and retry_after is None:
                # Still a rate limit: it holds the conversation's lane rather than spending
                # an attempt (bot/pacing.py).
                retry_after = RATE_LIMITED_WAIT
            return DeliveryError(reason, retryable=True, retry_after=retry_after)
        # 403: the bot was removed or blocked; 404: the conversation or user is gone; other
        # 4xx mean the request itself is wrong. Sending it again cannot help.
        code = _error_code(exc)
        if status == 401 or (status == 403 and code not in ONE_CONVERSATION_403):
            # The connector refuses the bot itself (its token, its app): the admins hear of it.
            rejected = Rejection.UNAUTHORIZED if status == 401 else Rejection.FORBIDDEN
            return DeliveryError(
                reason, retryable=False, rejected=rejected, code=f"HTTP {status} {code}".strip()
            )
        return DeliveryError(reason, retryable=False)
    if isinstance(exc, ClientRequestError | ConnectionError | TimeoutError):
        return DeliveryError(f"Bot Connector unreachable: {exc}", retryable=True)
    return None


def _error_code(exc: BaseException) -> str:
    """The Bot Framework ErrorResponse's code (msrest's `error.error.code`), or ""."""
    code = getattr(getattr(getattr(exc, "error", None), "error", None), "code", None)
    return code if isinstance(code, str) else ""


def _raise_mapped(exc: BaseException) -> None:
    mapped = delivery_error(exc)
    if mapped is None:
        raise exc
    raise mapped from exc


def _no_sdk_retries(context: Any) -> None:
    client = context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    if client is not None:
        client.config.retry_policy.retries = 0


class TeamsPort:
    def __init__(
        self,
        cloud: Any,
        *,
        app_id: str,
        directory: AddressBook,
        addresses: Addresses,
        thanks_reactions: tuple[str, ...] = ("like", "heart"),
    ) -> None:
        self.platform = Platform.TEAMS
        self.capabilities = Capabilities(
            ephemeral=False,
            reactions_on_any_message=False,
            command_prefix="",
            default_reactions=thanks_reactions,
            # Per bot per conversation: 7 in 1 s, 8 in 2 s, 60 in 30 s; per tenant 50 requests
            # per second, of which these leave some for turn replies (bot/pacing.py).
            lane_interval=0.55,
            lane_burst=4,
            workspace_interval=0.025,
            workspace_burst=10,
        )
        self._cloud = cloud
        self._app_id = app_id
        self._directory = directory
        self._addresses = addresses

    # ----- ChatPort ---------------------------------------------------------------------------

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        activity = render.to_activity(message)
        if isinstance(target, ToConversation):
            address = await self._address(workspace)
            conversation_id = target.conversation.id
            if target.thread_id:  # a reply in a channel thread is a post to the thread's id
                conversation_id = f"{conversation_id}{THREAD_MARK}{target.thread_id}"
            where = _Where(address.service_url, conversation_id, workspace.id, address.bot_id)
            message_id = await self._in_conversation(
                where, lambda ctx: self._post(ctx, where, activity, None)
            )
            return Sent(target.conversation.id, message_id) if message_id else None
        # ToUser, or Private: Teams has no ephemeral messages, so a private answer is a DM.
        return await self._direct(workspace, target.user, activity)

    async def update(self, workspace: WorkspaceRef, sent: Sent, message: Message) -> None:
        address = await self._address(workspace)
        where = _Where(address.service_url, sent.conversation_id, workspace.id, address.bot_id)
        activity = render.to_activity(message)

        async def edit(context: Any) -> None:
            self._address_activity(activity, where, None)
            activity.id = sent.message_id
            await context.adapter.update_activity(context, activity)

        await self._in_conversation(where, edit)

    async def publish_home(self, user: UserRef, message: Message) -> None:
        # No home view here (capabilities.home_tab is False): `home` is a command instead.
        raise NotImplementedError

    async def user_info(self, user: UserRef) -> UserInfo | None:
        # Teams has no directory call without a conversation: ask the one we share with them.
        route = Route.decode(await self._directory.route(user))
        if route is None:
            return None
        where = await self._route_where(user.workspace, route)

        async def look_up(context: Any) -> Any:
            # TeamsInfo reads the activity's channel data, which a proactive turn lacks.
            context.activity.channel_data = {"tenant": {"id": where.tenant}}
            return await TeamsInfo.get_member(context, user.id)

        try:
            member = await self._in_conversation(where, look_up)
        except DeliveryError as exc:
            if exc.retryable:
                raise
            return None
        name = getattr(member, "name", None) or " ".join(
            part
            for part in (getattr(member, "given_name", None), getattr(member, "surname", None))
            if part
        )
        member_id = getattr(member, "id", None) or user.id
        return UserInfo(display_name=str(name or user.id), tz=None, is_bot=is_bot_id(member_id))

    # ----- direct messages --------------------------------------------------------------------

    async def _direct(self, workspace: WorkspaceRef, user: UserRef, activity: Any) -> Sent | None:
        route = Route.decode(await self._directory.route(user))
        if route is not None:
            where = await self._route_where(workspace, route)
            try:
                message_id = await self._in_conversation(
                    where, lambda ctx: self._post(ctx, where, activity, user.id)
                )
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                # The stored chat is gone (app reinstalled, chat deleted): open a fresh one.
                log.info("stored Teams chat with %s failed (%s); opening a new one", user, exc)
            else:
                return Sent(route.conversation_id, message_id) if message_id else None
        return await self._open_chat(workspace, user, activity)

    async def _open_chat(
        self, workspace: WorkspaceRef, user: UserRef, activity: Any
    ) -> Sent | None:
        address = await self._address(workspace)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=address.bot_id) if address.bot_id else None,
            members=[ChannelAccount(id=user.id)],
            tenant_id=workspace.id,
            channel_data={"tenant": {"id": workspace.id}},
        )
        results: list[Sent | None] = []
        errors: list[BaseException] = []

        async def opened(context: Any) -> None:
            # Errors are kept, not raised: raised here they would reach on_turn_error, which is
            # for inbound turns.
            try:
                _no_sdk_retries(context)
                conversation_id = str(context.activity.conversation.id)
                route = Route(conversation_id, address.service_url, address.bot_id)
                await self._directory.remember_route(user, route.encode())
                self._addresses.note_route(user, route)
                where = _Where(address.service_url, conversation_id, workspace.id, address.bot_id)
                message_id = await self._post(context, where, activity, user.id)
                results.append(Sent(conversation_id, message_id) if message_id else None)
            except Exception as exc:
                errors.append(exc)

        try:
            await self._cloud.create_conversation(
                self._app_id,
                opened,
                params,
                channel_id=CHANNEL_ID,
                service_url=address.service_url,
            )
        except Exception as exc:
            _raise_mapped(exc)
        if errors:
            _raise_mapped(errors[0])
        return results[0] if results else None

    # ----- plumbing ---------------------------------------------------------------------------

    async def _address(self, workspace: WorkspaceRef) -> Address:
        cached = self._addresses.get(workspace.id)
        if cached is not None:
            return cached
        # After a restart: any stored route of the tenant gives its service URL.
        route = Route.decode(await self._directory.latest_route(workspace))
        if route is None or not route.service_url:
            raise DeliveryError(
                f"no Teams service URL known for tenant {workspace.id} yet: nobody there has "
                "talked to the bot since it was installed",
                retryable=True,
                retry_after=UNKNOWN_TENANT_RETRY,
            )
        bot_id = route.bot_id or self._default_bot_id()
        self._addresses.remember(workspace.id, route.service_url, bot_id)
        return Address(route.service_url, bot_id)

    async def _route_where(self, workspace: WorkspaceRef, route: Route) -> _Where:
        if route.service_url:
            return _Where(
                route.service_url,
                route.conversation_id,
                workspace.id,
                route.bot_id or self._default_bot_id(),
            )
        address = await self._address(workspace)
        return _Where(
            address.service_url, route.conversation_id, workspace.id, route.bot_id or address.bot_id
        )

    def _default_bot_id(self) -> str | None:
        return f"28:{self._app_id}" if self._app_id else None

    async def _in_conversation(self, where: _Where, action: Callable[[Any], Awaitable[T]]) -> T:
        """Runs `action` in a proactive turn on `where`; its errors come out mapped."""
        reference = ConversationReference(
            channel_id=CHANNEL_ID,
            service_url=where.service_url,
            conversation=ConversationAccount(id=where.conversation_id, tenant_id=where.tenant),
            bot=ChannelAccount(id=where.bot_id) if where.bot_id else None,
        )
        results: list[T] = []
        errors: list[BaseException] = []

        async def turn(context: Any) -> None:
            try:  # kept, not raised: see _open_chat
                _no_sdk_retries(context)
                results.append(await action(context))
            except Exception as exc:
                errors.append(exc)

        try:
            await self._cloud.continue_conversation(reference, turn, self._app_id)
        except Exception as exc:
            _raise_mapped(exc)
        if errors:
            _raise_mapped(errors[0])
        if not results:
            raise DeliveryError("the proactive turn did not run", retryable=True)
        return results[0]

    @staticmethod
    def _address_activity(activity: Any, where: _Where, recipient_id: str | None) -> None:
        activity.channel_id = CHANNEL_ID
        activity.service_url = where.service_url
        activity.conversation = ConversationAccount(
            id=where.conversation_id, tenant_id=where.tenant
        )
        activity.from_property = ChannelAccount(id=where.bot_id) if where.bot_id else None
        activity.recipient = ChannelAccount(id=recipient_id) if recipient_id else None
        # A new post, not a reply to the synthetic activity botbuilder makes for proactive turns.
        activity.reply_to_id = None

    async def _post(
        self, context: Any, where: _Where, activity: Any, recipient_id: str | None
    ) -> str | None:
        self._address_activity(activity, where, recipient_id)
        # The adapter, not TurnContext.send_activity: the latter would address the activity as
        # a reply to the proactive turn's random id.
        responses = await context.adapter.send_activities(context, [activity])
        message_id = getattr(responses[0], "id", None) if responses else None
        return str(message_id) if message_id else None
