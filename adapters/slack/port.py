"""The Slack side of the port: sends through the Web API (slack_sdk AsyncWebClient)."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbound import normalise_text
from adapters.slack.render import home_blocks, render
from bot.ids import ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.messages import Message, Private, Target, ToConversation, ToUser
from bot.ports import (
    Capabilities,
    ChannelNotCreated,
    DeliveryError,
    Presence,
    Rejection,
    Sent,
    UserInfo,
)

log = logging.getLogger(__name__)

# Slack refusing the bot itself, whatever it sends: what each code means, for the admins'
# alert (bot/delivery.py) and /readyz (adapters/credentials.py).
REJECTIONS: dict[str, tuple[Rejection, str]] = {
    "invalid_auth": (Rejection.UNAUTHORIZED, "the bot token was revoked or is wrong"),
    "not_authed": (Rejection.UNAUTHORIZED, "no bot token was sent (SLACK_BOT_TOKEN)"),
    "token_revoked": (
        Rejection.UNAUTHORIZED,
        "the bot token was revoked (the app was uninstalled or its token rotated)",
    ),
    "token_expired": (
        Rejection.UNAUTHORIZED,
        "the bot token expired (token rotation is on and it was not refreshed)",
    ),
    "account_inactive": (Rejection.UNAUTHORIZED, "the bot's user or its workspace was deactivated"),
    "missing_scope": (
        Rejection.FORBIDDEN,
        "the app lacks a scope it needs; reinstall it with the scopes in its manifest",
    ),
    "not_allowed_token_type": (Rejection.FORBIDDEN, "SLACK_BOT_TOKEN is not a bot token (xoxb-)"),
    "ekm_access_denied": (
        Rejection.FORBIDDEN,
        "the workspace's Enterprise Key Management revoked the app's access",
    ),
    "team_access_not_granted": (
        Rejection.FORBIDDEN,
        "the app was not granted access to this workspace of the organisation",
    ),
    "no_permission": (Rejection.FORBIDDEN, "the workspace does not permit the app this call"),
}
# Errors that no retry will fix (https://api.slack.com/methods/chat.postMessage#errors).
FINAL_ERRORS = set(REJECTIONS) | {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "user_not_found",
    "user_not_in_channel",
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

    async def create_channel(
        self,
        workspace: WorkspaceRef,
        name: str,
        private: bool,
        members: tuple[UserRef, ...] = (),
    ) -> str:
        """conversations.create (scopes channels:manage, groups:write), then
        conversations.invite for `members`; an invite that fails is logged, the channel stays."""
        try:
            resp = await self.client.conversations_create(name=name, is_private=private)
        except SlackApiError as exc:
            raise ChannelNotCreated(_error(exc) or "unknown_error") from exc
        except (OSError, TimeoutError) as exc:
            raise ChannelNotCreated("unreachable", retryable=True) from exc
        channel = str((resp.get("channel") or {}).get("id") or "")
        if members:
            try:
                await self.client.conversations_invite(
                    channel=channel, users=",".join(m.id for m in members)
                )
            except (SlackApiError, OSError, TimeoutError) as exc:
                log.warning("channel %s created, but inviting %s failed: %s", name, members, exc)
        return channel

    async def presence(self, user: UserRef) -> Presence | None:
        """Do Not Disturb (dnd.info, scope dnd:read) and the profile status (users.info).

        Read fresh each time: the core caches the answer for a few minutes, which keeps routing
        within dnd.info's tier (Tier 3) even when many questions come at once."""
        try:
            dnd = await self.client.dnd_info(user=user.id)
            info = await self.client.users_info(user=user.id)
        except SlackApiError as exc:
            log.info("presence of %s unknown: Slack said %s", user.id, _error(exc))
            return None
        except (OSError, TimeoutError) as exc:
            log.info("presence of %s unknown: Slack unreachable: %s", user.id, exc)
            return None
        now = time.time()
        snoozed = bool(dnd.get("snooze_enabled")) and _number(dnd.get("snooze_endtime")) > now
        scheduled = bool(dnd.get("dnd_enabled")) and (
            _number(dnd.get("next_dnd_start_ts")) <= now < _number(dnd.get("next_dnd_end_ts"))
        )
        profile = (info.get("user") or {}).get("profile") or {}
        expires = _number(profile.get("status_expiration"))
        live = not expires or expires > now  # an expired status is no longer what they say
        return Presence(
            do_not_disturb=snoozed or scheduled,
            status_text=str(profile.get("status_text") or "") if live else "",
            status_emoji=str(profile.get("status_emoji") or "").strip(":") if live else "",
        )

    async def bot_in_channel(self, conversation: ConversationRef) -> bool | None:
        """conversations.info's is_member (scopes channels:read, groups:read). A channel
        Slack won't show us is one we are not in; any other failure means we can't say."""
        try:
            resp = await self.client.conversations_info(channel=conversation.id)
        except SlackApiError as exc:
            if _error(exc) == "channel_not_found":
                return False
            log.info("membership of %s unknown: Slack said %s", conversation.id, _error(exc))
            return None
        except (OSError, TimeoutError) as exc:
            log.info("membership of %s unknown: Slack unreachable: %s", conversation.id, exc)
            return None
        channel = resp.get("channel") or {}
        return bool(channel.get("is_member")) if "is_member" in channel else None


def _number(value: Any) -> float:
    """A Unix time from Slack's JSON; anything unreadable counts as 0 (never, or long past)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


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
    rejection = REJECTIONS.get(code)
    if rejection is not None:
        kind, meaning = rejection
        needed = _needed_scope(exc)
        return DeliveryError(
            f"Slack said {code}: {meaning}{needed}", retryable=False, rejected=kind, code=code
        )
    return DeliveryError(f"Slack said {code or status}", retryable=code not in FINAL_ERRORS)


def _needed_scope(exc: SlackApiError) -> str:
    """missing_scope answers name the scope: " (needs files:write)"."""
    try:
        needed = exc.response.get("needed")
    except Exception:
        return ""
    return f" (needs {needed})" if isinstance(needed, str) and needed else ""


def _retry_after(headers: Any) -> float:
    """Slack's Retry-After (whole seconds); 30 s when it is missing or unreadable."""
    headers = headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return RATE_LIMITED_WAIT
