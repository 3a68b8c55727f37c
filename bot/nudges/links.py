"""Share links and redirect tokens.

The share links (LinkedIn, X, email) are built from the item's URL with urllib.parse.quote.
When ALLYBOT_PUBLIC_URL is set, the URL they share is the ambassador's own redirect,
`<public>/r/<token>`, so each click on what they shared is counted for them and the item. The
token is `secrets.token_urlsafe` (unguessable), one per nudge (one ambassador, one item), and
expires; a click stores a count and a time, never the clicker's address or browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.errors import UsageError
from store import Database
from store import nudges as store

TOKEN_BYTES = 16  # 22 URL-safe characters, 128 bits
LINK_LIFETIME = timedelta(days=365)
MAX_URL = 2000


def checked_url(text: str) -> str:
    """An absolute http(s) URL with a host, or a UsageError that says which part is wrong."""
    url = text.strip().strip("<>")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"“{parts.scheme}:”" if parts.scheme else "no scheme"
        raise UsageError(
            f"“{url[:80]}” isn't a web link ({shown}); content needs an http:// or https:// URL, "
            "e.g. https://example.com/post."
        )
    if not parts.netloc or " " in url:
        raise UsageError(f"“{url[:80]}” has no host name; expected e.g. https://example.com/post.")
    if len(url) > MAX_URL:
        raise UsageError(f"That URL is {len(url)} characters long; the most is {MAX_URL}.")
    return url


@dataclass(frozen=True, slots=True)
class ShareLinks:
    url: str  # what is shared: the item's URL, or the ambassador's redirect
    linkedin: str
    x: str
    email: str


def share_links(url: str, title: str, text: str | None) -> ShareLinks:
    q = quote(url, safe="")
    words = quote(text or title, safe="")
    body = quote(f"{text or title}\n\n{url}", safe="")
    return ShareLinks(
        url=url,
        linkedin=f"https://www.linkedin.com/sharing/share-offsite/?url={q}",
        x=f"https://x.com/intent/post?text={words}&url={q}",
        email=f"mailto:?subject={quote(title, safe='')}&body={body}",
    )


def redirect_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/r/{token}"


async def tracked(
    session: AsyncSession,
    *,
    workspace_id: int,
    nudge_id: int,
    url: str,
    public_url: str | None,
    now: datetime,
) -> str:
    """The URL an ambassador shares: their own redirect when a public URL is set."""
    if not public_url:
        return url
    existing = await store.link_of(session, nudge_id)
    if existing is None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await store.add_link(
            session,
            token=token,
            workspace_id=workspace_id,
            nudge_id=nudge_id,
            url=url,
            clicks=0,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        existing = await store.link_of(session, nudge_id)
        assert existing is not None
    return redirect_url(public_url, existing.token)


def plausible_token(token: str) -> bool:
    """Cheap refusal before any query: tokens are short and URL-safe base64."""
    return 0 < len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


async def follow(db: Database, clock: Clock, token: str) -> str | None:
    """A click on `GET /r/TOKEN`: counts it and returns where it leads; None for a token that is
    unknown or expired. One UPDATE, nothing about the clicker stored."""
    if not plausible_token(token):
        return None
    async with db.transaction() as session:
        url = await store.click(session, token, clock.now())
    if url is not None:
        metrics.nudge(None, "clicked")
    return url
