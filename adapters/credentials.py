"""Platform credentials, checked once at start, for /readyz.

- **Slack** (adapters/slack/credentials.py): `auth.test` with the bot token, through the
  adapter's own slack_sdk client (the port's, which retries nothing). It must also name a bot:
  a user token (xoxp-) is refused.
- **Teams** (adapters/teams/credentials.py), when MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD
  are set: a token from the Bot Framework token endpoint, for the authority and scope
  botbuilder's MicrosoftAppCredentials uses for every send, through MSAL as botbuilder does.
  Without an app id (authentication off) or with a managed identity, nothing is checked, and
  /readyz says "not checked".

Each platform ends in one of:

- `ok`: the platform accepted the credentials;
- `rejected`: the platform refused them (invalid_auth, a revoked token, a wrong client secret).
  /readyz answers 503 with the reason until the process restarts with credentials that work: a
  replica that cannot send should not take traffic, and a bad deploy stops at its first one;
- `unverified`: the platform could not be asked (network, timeout, 5xx, rate limit). /readyz
  stays 200 and shows why: an outage of the platform's API at start must not keep every replica
  out of service forever. It is not asked again; rejections met later, by sends, reach the
  admins and the ops channel (bot/delivery.py, Admins.platform_rejected);
- `not checked`: there was nothing to ask (see above).

Secrets never appear in what is logged or shown: only the platform's error code and what it
means.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core import Allybot
from bot.ids import Platform

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds per platform; the checks run side by side, before the door opens


class Status(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    UNVERIFIED = "unverified"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True, slots=True)
class Check:
    platform: str
    status: Status
    reason: str = ""  # "slack: invalid_auth — the bot token was revoked or is wrong"

    def as_json(self) -> dict[str, str]:
        out = {"credentials": str(self.status)}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the start-up check found, per configured platform."""

    checks: tuple[Check, ...]
    checked_at: datetime

    @property
    def rejected(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.REJECTED]

    def as_json(self) -> dict[str, dict[str, str]]:
        when = self.checked_at.isoformat()
        return {c.platform: {**c.as_json(), "checked_at": when} for c in self.checks}


# Where /readyz finds the result (adapters/server.py).
CREDENTIALS = web.AppKey("credentials", Credentials)


async def check_credentials(
    core: Allybot, *, login_http: requests.Session | None = None
) -> Credentials:
    """Asks each configured platform once whether it accepts the bot's credentials.

    `login_http`: the HTTP session MSAL uses for the Teams token (tests route it to a local
    fake); by default MSAL's own, with a timeout."""
    settings = core.services.settings
    checks: list[asyncio.Task[Check]] = []
    slack = core.ports.get(Platform.SLACK)
    if slack is not None:
        from adapters.slack import credentials as slack_credentials

        asking = slack_credentials.check(slack)  # type: ignore[arg-type]
        checks.append(asyncio.create_task(_bounded(Platform.SLACK, asking)))
    if settings.teams_configured:
        from adapters.teams import credentials as teams_credentials

        asking = teams_credentials.check(settings, login_http)
        checks.append(asyncio.create_task(_bounded(Platform.TEAMS, asking)))
    found = tuple(await asyncio.gather(*checks))
    for check in found:
        _log(check)
    return Credentials(found, core.services.clock.now())


async def _bounded(platform: str, check: Coroutine[Any, Any, Check]) -> Check:
    try:
        return await asyncio.wait_for(check, TIMEOUT)
    except TimeoutError:
        return Check(platform, Status.UNVERIFIED, f"{platform}: no answer within {TIMEOUT:g} s")
    except Exception as exc:  # a check never stops the start; say what it was
        return Check(platform, Status.UNVERIFIED, f"{platform}: {type(exc).__name__}")


def _log(check: Check) -> None:
    if check.status is Status.REJECTED:
        log.error(
            "credentials rejected: %s (/readyz answers 503 until a restart with credentials "
            "that work)",
            check.reason,
        )
    elif check.status is Status.UNVERIFIED:
        log.warning("credentials not verified at start: %s (still ready)", check.reason)
    elif check.status is Status.NOT_CHECKED:
        log.info("%s credentials not checked: %s", check.platform, check.reason)
    else:
        log.info("%s credentials accepted (%s)", check.platform, check.reason)
