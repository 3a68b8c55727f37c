"""Teams' start-up credentials check (adapters/credentials.py): a token from the Bot Framework
token endpoint (Microsoft Entra) for MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, for the
authority and scope botbuilder's MicrosoftAppCredentials uses for every send, through MSAL as
botbuilder does."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import requests
from botframework.connector.auth import MicrosoftAppCredentials
from msal import ConfidentialClientApplication  # type: ignore[import-untyped]

from adapters.credentials import TIMEOUT, Check, Status
from bot.ids import Platform
from bot.settings import Settings

# Microsoft Entra's token errors that mean the credentials themselves are wrong.
ENTRA_REJECTIONS: Mapping[str, str] = {
    "invalid_client": "MICROSOFT_APP_PASSWORD (the client secret) is wrong or expired, or "
    "MICROSOFT_APP_ID is not its app",
    "unauthorized_client": "MICROSOFT_APP_ID is not an app this tenant knows (check "
    "MICROSOFT_APP_TYPE and MICROSOFT_APP_TENANT_ID)",
    "invalid_request": "the app id or tenant is not valid (check MICROSOFT_APP_ID and "
    "MICROSOFT_APP_TENANT_ID)",
}
_ENTRA_CODE = re.compile(r"AADSTS\d+")


async def check(settings: Settings, http: requests.Session | None) -> Check:
    """`http`: the session MSAL uses (tests route it to a local fake); by default MSAL's own,
    with a timeout."""
    if not settings.microsoft_app_id:
        return Check(
            Platform.TEAMS,
            Status.NOT_CHECKED,
            "authentication is off (TEAMS_ENABLED without MICROSOFT_APP_ID)",
        )
    if not settings.microsoft_app_password:
        return Check(
            Platform.TEAMS, Status.NOT_CHECKED, "a managed identity: Azure checks it at each send"
        )
    # MSAL is blocking (requests): in a thread, with its own timeout so the thread ends too.
    return await asyncio.to_thread(_teams_token, settings, http)


def _teams_token(settings: Settings, http: requests.Session | None) -> Check:
    # botbuilder's own authority (login.microsoftonline.com/<tenant or botframework.com>) and
    # scope (api.botframework.com), as CloudAdapter's sends get their tokens.
    creds = MicrosoftAppCredentials(
        settings.microsoft_app_id,
        settings.microsoft_app_password,
        channel_auth_tenant=settings.microsoft_app_tenant_id or None,
    )
    scope = creds.oauth_scope
    if not scope.endswith("/.default"):
        scope += "/.default"
    options: dict[str, Any] = {"http_client": http} if http is not None else {"timeout": TIMEOUT}
    try:
        app = ConfidentialClientApplication(
            client_id=settings.microsoft_app_id,
            client_credential=settings.microsoft_app_password,
            authority=creds.oauth_endpoint,
            **options,
        )
        answer = app.acquire_token_for_client(scopes=[scope])
    except ValueError as exc:
        if _tenant_refused(exc):
            return Check(
                Platform.TEAMS,
                Status.REJECTED,
                f"teams: unknown tenant — {creds.tenant!r} is not a Microsoft Entra tenant "
                "(check MICROSOFT_APP_TENANT_ID)",
            )
        return Check(
            Platform.TEAMS, Status.UNVERIFIED, "teams: the token endpoint's answer was unreadable"
        )
    except (requests.RequestException, OSError) as exc:
        return Check(
            Platform.TEAMS,
            Status.UNVERIFIED,
            f"teams: the token endpoint is unreachable ({type(exc).__name__})",
        )
    if "access_token" in answer:
        return Check(Platform.TEAMS, Status.OK, f"app {settings.microsoft_app_id}")
    error = str(answer.get("error") or "unknown_error")
    found = _ENTRA_CODE.search(str(answer.get("error_description") or ""))
    code = f"{error} ({found.group()})" if found else error
    meaning = ENTRA_REJECTIONS.get(error)
    if meaning is None:  # temporarily_unavailable, server errors: nothing said about the secret
        return Check(Platform.TEAMS, Status.UNVERIFIED, f"teams: the token endpoint said {code}")
    return Check(Platform.TEAMS, Status.REJECTED, f"teams: {code} — {meaning}")


def _tenant_refused(exc: BaseException) -> bool:
    """MSAL's "Unable to get authority configuration": refused when the tenant's discovery
    answered 4xx (the tenant does not exist), not when its answer could not be read."""
    seen: BaseException | None = exc
    while seen is not None:
        if "HTTP status: 4" in str(seen):
            return True
        seen = seen.__context__
    return False
