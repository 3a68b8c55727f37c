"""Slack's start-up credentials check (adapters/credentials.py): `auth.test` with the bot
token, through the port's own slack_sdk client (which retries nothing)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from adapters.credentials import Check, Status
from adapters.slack.port import REJECTIONS, SlackPort
from bot.ids import Platform


async def check(port: SlackPort) -> Check:
    """Accepted (it must also name a bot: a user token is refused), rejected with what the
    error means, or unverified when Slack could not say."""
    try:
        resp = await port.client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or getattr(exc.response, "status_code", ""))
        meaning = REJECTIONS.get(code)
        if meaning is not None:
            return Check(Platform.SLACK, Status.REJECTED, f"slack: {code} — {meaning[1]}")
        return Check(Platform.SLACK, Status.UNVERIFIED, f"slack: auth.test answered {code}")
    except (OSError, TimeoutError) as exc:
        return Check(
            Platform.SLACK, Status.UNVERIFIED, f"slack: unreachable ({type(exc).__name__})"
        )
    if not resp.get("bot_id"):
        return Check(
            Platform.SLACK,
            Status.REJECTED,
            "slack: not a bot token — SLACK_BOT_TOKEN must be the app's bot token (xoxb-...)",
        )
    return Check(
        Platform.SLACK, Status.OK, f"team {resp.get('team_id')}, bot user {resp.get('user_id')}"
    )
