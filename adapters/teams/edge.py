"""The shape of a Bot Framework activity, checked before botbuilder or our translation reads it.

Runs before authentication too: the body is parsed to find out whom to authenticate (its
serviceUrl and channel), so a body that would crash a parser must be refused first. Only the
fields that botbuilder's routing or `inbound`/`forms` read are described, with the types the
Bot Framework schema gives them; everything else passes unexamined (extra keys are ignored), so
real activities, with fields Microsoft adds later, are not refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from adapters import edge
from adapters.edge import Rejected

__all__ = ["Rejected", "read_activity"]

# botbuilder puts the conversation id in an HTTP header of every reply (x-ms-conversation-id),
# and headers are Latin-1 at most: real ids are printable ASCII ("19:...@thread.tacv2",
# "a:1Xy...", ";messageid=..."), so anything else is refused before a reply can fail on it.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,1024}")
_URL = re.compile(r"https?://[\x21-\x7e]{1,2040}")


def _header_safe(value: str) -> str:
    if not _HEADER_SAFE.fullmatch(value):
        raise ValueError("expected printable ASCII without spaces, at most 1024 characters")
    return value


def _url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise ValueError("expected an http(s) URL in printable ASCII")
    return value


HeaderSafe = Annotated[str, AfterValidator(_header_safe)]


class _Account(BaseModel):
    id: str | None = None
    name: str | None = None
    aadObjectId: str | None = None
    role: str | None = None


class _Conversation(BaseModel):
    id: HeaderSafe | None = None
    conversationType: str | None = None
    tenantId: str | None = None
    isGroup: bool | None = None
    name: str | None = None


class _IdOnly(BaseModel):
    id: str | None = None


class _ChannelData(BaseModel):
    tenant: _IdOnly | None = None
    team: _IdOnly | None = None
    channel: _IdOnly | None = None
    eventType: str | None = None


class _Entity(BaseModel):
    type: str | None = None
    text: str | None = None
    timezone: str | None = None
    mentioned: _Account | None = None


class _Reaction(BaseModel):
    type: str | None = None


class _Activity(BaseModel):
    type: Annotated[str, Field(min_length=1)]
    serviceUrl: Annotated[str, AfterValidator(_url)]  # where replies go
    id: str | None = None
    channelId: str | None = None
    timestamp: str | None = None
    localTimestamp: str | None = None
    localTimezone: str | None = None
    name: str | None = None
    text: str | None = None
    textFormat: str | None = None
    locale: str | None = None
    replyToId: HeaderSafe | None = None  # goes into the reply's URL
    conversation: _Conversation | None = None
    from_: Annotated[_Account | None, Field(alias="from")] = None
    recipient: _Account | None = None
    channelData: _ChannelData | None = None
    entities: list[_Entity] | None = None
    membersAdded: list[_Account] | None = None
    membersRemoved: list[_Account] | None = None
    reactionsAdded: list[_Reaction] | None = None
    reactionsRemoved: list[_Reaction] | None = None
    attachments: list[dict[str, Any]] | None = None
    # `value` (a card's or an invoke's data) is any JSON: translation reads it with type checks.


def read_activity(body: bytes, charset: str | None) -> dict[str, Any]:
    """The activity, or Rejected with the reason for a 400."""
    data = edge.loads(edge.decode(body, charset))
    if not isinstance(data, dict):
        raise Rejected("the body must be a JSON object (a Bot Framework activity)")
    try:
        _Activity.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise Rejected(f"unexpected shape at {where}: {first['msg']}") from None
    return data
