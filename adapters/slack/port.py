"""The Slack side of the port: sends through the Web API (slack_sdk AsyncWebClient)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbound import normalise_text
from adapters.slack.render import home_blocks, render
from bot.ids import MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Private, Target, ToConversation, ToUser
from bot.ports import Capabilities, DeliveryError, Sent, UserInfo

log = logging.getLogger(__name__)

# Errors that no retry will fix (https://api.slack.com/methods/chat.postMessage#errors).
FINAL_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "user_not_found",
    "user_not_in_channel",
    "account_inactive",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "missing_scope",
    "msg_too_long",
    "invalid_blocks",
    "cant_update_message",
    "message_not_found",
    "edit_window_closed",
    "restricted_action",
}
# When a 429 carries no usable Retry-After.
RATE_LIMITED_WAIT = 30.0
# An ephemeral can't reach someone outside the channel; a DM still can.
EPHEMERAL_FALLBACK = {"user_not_in_channel", "channel_not_found", "not_in_channel"}


class SlackPort:
    platform = Platform.SLACK
    capabilities = Capabilities(
        ephemeral=True,
        reactions_on_any_message=True,
        command_prefix="/ally ",
        home_tab=True,
        # chat.postMessage: "one message per second per channel", short bursts allowed.
        lane_interval=1.0,
        lane_burst=3,
    )

    def __init__(self, client: AsyncWebClient) -> None:
        """`client` must not retry on its own (no slack_sdk retry handlers): the core's queue
        owns retries, and a 429 must come back here to hold its lane, not be slept on."""
        self.client = client

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        if message.file is not None:
            return await self._upload(target, message)
        args = render(message)
        try:
            if isinstance(target, ToConversation):
                resp = await self.client.chat_postMessage(
                    channel=target.conversation.id,
                    thread_ts=target.thread_id,
                    unfurl_links=False,
                    **args,
                )
                return Sent(str(resp["channel"]), str(resp["ts"]))
            if isinstance(target, ToUser):
                # Posting to a user id delivers to the app's DM with them.
                resp = await self.client.chat_postMessage(
                    channel=target.user.id, unfurl_links=False, **args
                )
                return Sent(str(resp["channel"]), str(resp["ts"]))
            if isinstance(target, Private):
                try:
                    await self.client.chat_postEphemeral(
                        channel=target.conversation.id, user=target.user.id, **args
                    )
                except SlackApiError as exc:
                    if _error(exc) not in EPHEMERAL_FALLBACK:
                        raise
                    return await self.send(workspace, ToUser(user=target.user), message)
                return None
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc
        raise TypeError(f"unsupported target {target!r}")

    async def _upload(self, target: Target, message: Message) -> Sent | None:
        """A file (an export) through files_upload_v2, with the text as its comment."""
        assert message.file is not None
        try:
            if isinstance(target, ToUser | Private):
                # A file goes to a conversation: for a person, the app's DM with them.
                opened = await self.client.conversations_open(users=target.user.id)
                channel = str((opened.get("channel") or {}).get("id") or "")
            else:
                channel = target.conversation.id
            await self.client.files_upload_v2(
                channel=channel,
                content=message.file.content,
                filename=message.file.name,
                title=message.file.name,
                initial_comment=render(message)["text"],
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc
        return None

    async def message_text(self, message: MessageRef) -> str | None:
        """The text of a message, to file it as feedback by reaction."""
        resp = await self.client.conversations_history(
            channel=message.conversation.id, latest=message.id, inclusive=True, limit=1
        )
        for found in resp.get("messages") or []:
            if str(found.get("ts")) == message.id:
                return normalise_text(str(found.get("text") or ""))
        return None

    async def update(self, workspace: WorkspaceRef, sent: Sent, message: Message) -> None:
        try:
            await self.client.chat_update(
                channel=sent.conversation_id, ts=sent.message_id, **render(message)
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc

    async def publish_home(self, user: UserRef, message: Message) -> None:
        view = {"type": "home", "blocks": home_blocks(message)}
        try:
            await self.client.views_publish(user_id=user.id, view=view)
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"Slack unreachable: {exc}", retryable=True) from exc

    async def user_info(self, user: UserRef) -> UserInfo | None:
        try:
            resp = await self.client.users_info(user=user.id)
        except SlackApiError as exc:
            if _error(exc) == "user_not_found":
                return None
            raise
        data = resp.get("user") or {}
        profile = data.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or data.get("real_name")
            or data.get("name")
            or user.id
        )
        return UserInfo(
            display_name=str(name),
            tz=data.get("tz"),
            is_bot=bool(data.get("is_bot")) or user.id == "USLACKBOT",
            deleted=bool(data.get("deleted")),
        )


def _error(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "")
    except Exception:
        return ""


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    code = _error(exc)
    status = getattr(exc.response, "status_code", 200)
    if status == 429 or code == "ratelimited":
        return DeliveryError(
            "rate limited", retryable=True, retry_after=_retry_after(exc.response.headers)
        )
    return DeliveryError(f"Slack said {code or status}", retryable=code not in FINAL_ERRORS)


def _retry_after(headers: Any) -> float:
    """Slack's Retry-After (whole seconds); 30 s when it is missing or unreadable."""
    headers = headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return RATE_LIMITED_WAIT
