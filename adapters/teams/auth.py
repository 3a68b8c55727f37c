"""Inbound Bot Framework authentication: botbuilder's validation, made safe to face the Internet.

botbuilder (4.17) validates the token itself, but:
- a token that is not a JWT, or lacks the claims it indexes (`iss`), raises jwt's DecodeError or
  KeyError, which surfaced as a 500;
- its signing-key cache (`_OpenIdMetadata`) fetches the OpenID document and keys with a blocking
  `requests.get`, without a timeout, inside the event loop; a fetch that fails is retried on the
  very next request, so without network every request blocks on it;
- an unknown key id raises IndexError.

So `Authenticator.check` screens the header first, without I/O (scheme, JWT structure, algorithm,
key id, an issuer botbuilder accepts), then makes sure the key is in our cache, fetched with
aiohttp off the loop's critical path and at most once per `RETRY_AFTER` when it fails. botbuilder
then runs its full validation (signature, expiry, audience, serviceUrl claim, endorsements) with
our cache in place of its own: `JwtTokenExtractor.metadataCache` is the one place botbuilder
looks its key source up, by metadata URL. `BotAuthentication` turns whatever that validation
raises into a PermissionError (a 401).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import AuthenticationConstants, EmulatorValidation
from botframework.connector.auth.channel_validation import ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FetchJson = Callable[[str], Awaitable[Any]]

MAX_TOKEN = 16 * 1024  # Bot Framework tokens are about 1-2 KB
REFRESH_EVERY = 24 * 3600.0  # botbuilder's own period
RETRY_AFTER = 60.0  # after a failed fetch: bounded, so an outage doesn't fetch per request
UNKNOWN_KEY_REFRESH = 300.0  # a new key id is looked for at most this often


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What botbuilder's extractor reads from its key source (`public_key`, `endorsements`)."""

    public_key: Any
    endorsements: list[str]


async def fetch_json(url: str) -> Any:
    """GETs a JSON document; the default fetcher (tests replace it with a local one)."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
        resp.raise_for_status()
        return await resp.json(content_type=None)


class SigningKeys:
    """The keys one OpenID metadata document points to; duck-types botbuilder's cache entry."""

    def __init__(
        self, metadata_url: str, fetch: FetchJson, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.metadata_url = metadata_url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, key_id: str | None) -> SigningKey | None:
        """The key, refreshing when the cache is old or the id is new (rate-limited)."""
        if key_id is None:
            return None
        if self._due(key_id):
            async with self._lock:  # one fetch for every request waiting on it
                if self._due(key_id):
                    await self._refresh()
        return self._keys.get(key_id)

    def _due(self, key_id: str) -> bool:
        now = self._clock()
        if self._tried_at is not None and now - self._tried_at < RETRY_AFTER:
            return False
        if self._fetched_at is None or now - self._fetched_at > REFRESH_EVERY:
            return True
        return key_id not in self._keys and now - self._fetched_at > UNKNOWN_KEY_REFRESH

    async def _refresh(self) -> None:
        self._tried_at = self._clock()
        self.fetches += 1
        try:
            metadata = await self._fetch(self.metadata_url)
            keys = await self._fetch(str(metadata["jwks_uri"]))
            parsed = {
                str(k["kid"]): SigningKey(
                    RSAAlgorithm.from_jwk(json.dumps(k)), list(k.get("endorsements") or [])
                )
                for k in keys["keys"]
                if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("kid")
            }
        except Exception as exc:  # network, HTTP status, JSON or key format: all the same here
            log.warning(
                "could not fetch Bot Framework signing keys from %s: %s", self.metadata_url, exc
            )
            return
        self._keys = parsed
        self._fetched_at = self._clock()
        self._tried_at = None


# Issuers botbuilder accepts for a bot's inbound requests, and where each one's keys are.
def _issuers() -> dict[str, str]:
    channel = (
        ChannelValidation.open_id_metadata_endpoint
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    out = {AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: channel}
    emulator = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    for issuer in EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer:
        out[issuer] = emulator
    return out


@dataclass(frozen=True, slots=True)
class _Screened:
    key_id: str
    metadata_url: str


def screen(auth_header: str, issuers: dict[str, str]) -> _Screened | str:
    """What the header claims to be, or why it can't be a Bot Framework token. No I/O."""
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token:
        return "expected an Authorization: Bearer token"
    if len(token) > MAX_TOKEN or not token.isascii() or token.count(".") != 2:
        return "the bearer token is not a JWT"
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "the bearer token is not a JWT"
    if header.get("alg") not in AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS:
        return "the token's signing algorithm is not allowed"
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        return "the token names no signing key"
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in issuers:
        return "the token was not issued by the Bot Framework"
    return _Screened(key_id, issuers[issuer])


class Authenticator:
    """Screens inbound tokens and keeps botbuilder's key cache filled without blocking."""

    def __init__(self, fetch: FetchJson | None = None) -> None:
        self.issuers = _issuers()
        fetcher = fetch or fetch_json
        self.keys = {url: SigningKeys(url, fetcher) for url in set(self.issuers.values())}
        # botbuilder looks its key source up here by URL; ours replaces the blocking one.
        JwtTokenExtractor.metadataCache.update(self.keys)

    async def check(self, auth_header: str) -> str | None:
        """None when botbuilder may validate the token; otherwise why it is refused (401)."""
        screened = screen(auth_header, self.issuers)
        if isinstance(screened, str):
            return screened
        key = await self.keys[screened.metadata_url].get(screened.key_id)
        if key is None:
            return "the token's signing key is unknown (or the keys could not be fetched)"
        return None


class BotAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's own authentication, with every way a token fails to validate reported as
    the PermissionError it raises for some of them (for others it raises jwt's DecodeError,
    KeyError, IndexError or a bare Exception), so that each one is a 401, not a 500."""

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        try:
            return await super().authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as exc:
            raise PermissionError(f"the token could not be validated: {exc!r}") from exc
