"""Helpers to build signed Slack HTTP requests (slash commands, events, interactions)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = ["form_body", "interactive_body", "slack_signed_headers"]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def slack_signed_headers(
    secret: str,
    body: str | bytes,
    *,
    timestamp: int | None = None,
    content_type: str,
) -> dict[str, str]:
    """Headers Slack would send with ``body``: Content-Type, X-Slack-Request-Timestamp and
    X-Slack-Signature (``v0=`` HMAC-SHA256 over ``v0:{timestamp}:{body}``).

    ``timestamp`` defaults to now; pass an old one to test replay rejection (bolt refuses
    timestamps more than 5 minutes off).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret=secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def form_body(payload: dict[str, Any]) -> str:
    """URL-encode a slash-command style payload (``command=/kudos&text=...``)."""
    return urlencode({k: "" if v is None else str(v) for k, v in payload.items()})


def interactive_body(payload: dict[str, Any]) -> str:
    """URL-encode an interactivity payload the way Slack does: ``payload=<urlencoded JSON>``."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
