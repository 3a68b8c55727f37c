"""Teams activities (Bot Framework JSON) -> core events.

Pure functions over the raw payload: no botbuilder, no I/O, so every rule here is easy to test and
survives a change of SDK. Look-ups that need the network (resolving a message author's AAD id)
happen in the adapter, which passes their result in.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.events import (
    ActionPressed,
    MemberJoined,
    MessageActionInvoked,
    MessagePosted,
    Profile,
    ReactionChanged,
)
from bot.ids import ConversationKind, ConversationRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.text import mention_token

log = logging.getLogger(__name__)

Json = Mapping[str, Any]

BOT_PREFIX = "28:"  # Bot Framework ids of bots; people are "29:..."
THREAD_MARK = ";messageid="  # channel conversation ids name the thread they belong to


# ----- reading the payload defensively ---------------------------------------------------------


def _map(value: Any, key: str) -> Json:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _str(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) and found else None


def _maps(value: Any, key: str) -> Iterator[Json]:
    found = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(found, Sequence) and not isinstance(found, str):
        yield from (item for item in found if isinstance(item, Mapping))


def is_bot_id(user_id: str) -> bool:
    return user_id.startswith(BOT_PREFIX)


def same_account(a: str | None, b: str | None) -> bool:
    """Teams writes the bot's id with or without the "28:" prefix depending on the payload."""
    if not a or not b:
        return False
    return a.removeprefix(BOT_PREFIX) == b.removeprefix(BOT_PREFIX)


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """`19:abc@thread.tacv2;messageid=17` -> ("19:abc@thread.tacv2", "17").

    The core keys conversations on the bare channel id: Teams reports reactions on the bare id, and
    the bot's own posts must be found again under the id they were recorded with.
    """
    base, mark, thread = conversation_id.partition(THREAD_MARK)
    return base, (thread or None) if mark else None


def _timestamp(value: str | None, now: datetime) -> datetime:
    if not value:
        return now
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return now
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _zone(name: str | None) -> str | None:
    # Teams sometimes sends names like "GMT-8"; pass only zones the core can use.
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _event_id(body: Json) -> str:
    activity_id = _str(body, "id")
    if activity_id:
        return activity_id
    # No id (rare, synthetic payloads): a digest still makes identical redeliveries collide.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


# ----- the envelope every activity shares ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """What any activity says about where it came from, read once."""

    kind: str
    event_id: str
    occurred_at: datetime
    workspace: WorkspaceRef
    conversation: ConversationRef
    thread_id: str | None  # the channel thread the activity belongs to
    actor: UserRef
    actor_profile: Profile
    service_url: str
    bot_id: str | None
    raw: Json

    @property
    def personal(self) -> bool:
        return self.conversation.kind is ConversationKind.DIRECT


def read_envelope(body: Json, now: datetime) -> Envelope | None:
    """None when the activity lacks what any event needs (tenant, conversation, sender)."""
    conversation = _map(body, "conversation")
    sender = _map(body, "from")
    tenant = _str(_map(_map(body, "channelData"), "tenant"), "id") or _str(conversation, "tenantId")
    conversation_id = _str(conversation, "id")
    actor_id = _str(sender, "id")
    service_url = _str(body, "serviceUrl")
    kind = _str(body, "type")
    if not (tenant and conversation_id and actor_id and service_url and kind):
        return None
    workspace = WorkspaceRef(Platform.TEAMS, tenant)
    base, thread = split_thread(conversation_id)
    conv_kind = (
        ConversationKind.DIRECT
        if conversation.get("conversationType") == "personal"
        else ConversationKind.CHANNEL
    )
    client_tz = next(
        (_str(e, "timezone") for e in _maps(body, "entities") if e.get("type") == "clientInfo"),
        None,
    )
    return Envelope(
        kind=kind,
        event_id=_event_id(body),
        occurred_at=_timestamp(_str(body, "timestamp"), now),
        workspace=workspace,
        conversation=ConversationRef(workspace, base, conv_kind),
        thread_id=thread,
        actor=UserRef(workspace, actor_id),
        actor_profile=Profile(
            display_name=_str(sender, "name"),
            tz=_zone(_str(body, "localTimezone") or client_tz),
            is_bot=is_bot_id(actor_id),
        ),
        service_url=service_url,
        bot_id=_str(_map(body, "recipient"), "id"),
        raw=body,
    )


# ----- text -----------------------------------------------------------------------------------

_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_AT = re.compile(r"<at[^<>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t]{2,}")
_SLOT_CHARS = re.compile("[\ue000\ue001]")
_SLOT = re.compile("\ue000(\\d+)\ue001")


def html_to_text(content: str) -> str:
    """Teams' HTML (message bodies, text with markup) as the plain text people typed."""
    text = _BREAK.sub("\n", content)
    text = _TAG.sub("", text)
    return html.unescape(text).replace("\xa0", " ").strip()


@dataclass(frozen=True, slots=True)
class CleanText:
    text: str  # mentions as the core's <@USER_ID> tokens, the bot's own mention removed
    mentions_bot: bool
    profiles: dict[str, Profile]


def clean_message_text(text: str, entities: Sequence[Json], bot_id: str | None) -> CleanText:
    """Normalises a message's text for the core.

    Mentions are swapped for numbered placeholders first, so that stripping Teams' HTML and
    unescaping entities cannot create or destroy one; a `<@...>` the person typed literally is
    defused, so only real mentions reach the core as mention tokens. Each mention entity takes the
    first occurrence of its `<at>` marker not yet taken, wherever it is in the text: Teams does not
    promise `entities` in text order (the bot's own mention may come after the others).

    Kept instead of botbuilder's `TurnContext.remove_recipient_mention` on purpose: that helper
    only removes the bot's own mention, feeds the display name unescaped into `re.sub` and leaves
    `<at></at>` behind, while this also turns the other mentions into tokens and defuses typed
    `<@`; and it keeps this module free of the SDK (botbuilder is archived).
    """
    work = _SLOT_CHARS.sub("", text)
    tokens: list[str] = []
    profiles: dict[str, Profile] = {}
    mentions_bot = False
    for entity in entities:
        if entity.get("type") != "mention":
            continue
        mentioned = _map(entity, "mentioned")
        user_id = _str(mentioned, "id")
        if not user_id:
            continue
        is_ours = same_account(user_id, bot_id)
        mentions_bot = mentions_bot or is_ours
        if not is_ours:
            profiles[user_id] = Profile(
                display_name=_str(mentioned, "name"), is_bot=is_bot_id(user_id)
            )
        marker = _str(entity, "text")
        # Markers already taken are placeholders now, so find() skips them; a marker holding the
        # placeholder characters could match a placeholder instead, so it matches nothing.
        if not marker or _SLOT_CHARS.search(marker):
            continue
        at = work.find(marker)
        if at < 0:
            continue
        slot = f"\ue000{len(tokens)}\ue001"
        tokens.append("" if is_ours else mention_token(user_id))
        work = work[:at] + slot + work[at + len(marker) :]
    work = _AT.sub(r"\1", work)  # an <at> Teams sent without an entity is just a name
    work = html_to_text(work)
    work = work.replace("<@", "<\u2060@")  # typed, not mentioned: must not read as a mention
    work = _SLOT.sub(lambda m: tokens[int(m.group(1))], work)
    work = _SPACES.sub(" ", work).strip()
    return CleanText(text=work, mentions_bot=mentions_bot, profiles=profiles)


# ----- events ---------------------------------------------------------------------------------


def message_event(env: Envelope) -> MessagePosted | ActionPressed | None:
    body = env.raw
    text = _str(body, "text") or ""
    value = body.get("value")
    reply_to = _str(body, "replyToId")
    if isinstance(value, Mapping) and not text.strip():
        # An Adaptive Card Action.Submit: the card's data comes back as the message's value.
        action_id = _str(value, "action_id")
        if action_id is None:
            log.info("ignored a card submit without action_id")
            return None
        raw_value = value.get("value")
        return ActionPressed(
            event_id=env.event_id,
            actor=env.actor,
            occurred_at=env.occurred_at,
            actor_profile=env.actor_profile,
            raw=body,
            action_id=action_id,
            value="" if raw_value is None else str(raw_value),
            conversation=env.conversation,
            message=MessageRef(env.conversation, reply_to) if reply_to else None,
        )
    clean = clean_message_text(text, list(_maps(body, "entities")), env.bot_id)
    own_id = _str(body, "id") or env.event_id
    # A new channel post names itself as its thread ("...;messageid=<its own id>"): only a post
    # in someone else's thread is a reply.
    thread = reply_to or env.thread_id
    return MessagePosted(
        event_id=env.event_id,
        actor=env.actor,
        occurred_at=env.occurred_at,
        actor_profile=env.actor_profile,
        profiles=clean.profiles,
        raw=body,
        message=MessageRef(
            env.conversation, own_id, thread_id=thread if thread != own_id else None
        ),
        text=clean.text,
        # Without the ChannelMessage.Read.Group permission Teams only delivers channel messages
        # that @mention the bot; with it (help channels), every post arrives, unaddressed.
        addressed_to_bot=env.personal or clean.mentions_bot,
    )


def reaction_events(env: Envelope) -> list[ReactionChanged]:
    body = env.raw
    reply_to = _str(body, "replyToId")
    if reply_to is None:
        log.info("ignored a messageReaction without replyToId")
        return []
    message = MessageRef(env.conversation, reply_to)
    events: list[ReactionChanged] = []
    for added, key in ((True, "reactionsAdded"), (False, "reactionsRemoved")):
        for item in _maps(body, key):
            reaction = _str(item, "type")
            if reaction is None:
                continue
            events.append(
                ReactionChanged(
                    # One activity may carry several reactions: each needs its own id.
                    event_id=f"{env.event_id}:{'add' if added else 'remove'}:{reaction}",
                    actor=env.actor,
                    occurred_at=env.occurred_at,
                    actor_profile=env.actor_profile,
                    raw=body,
                    message=message,
                    reaction=reaction,
                    added=added,
                    # Teams reports reactions only on the bot's own posts; the core knows whom
                    # a reaction on its kudos post thanks.
                    message_author=None,
                )
            )
    return events


@dataclass(frozen=True, slots=True)
class PayloadAuthor:
    """Who wrote the message a message action was used on, as Teams describes them."""

    id: str  # the AAD object id for people, "28:<app id>" for bots
    name: str | None
    is_bot: bool


def payload_author(value: Json) -> PayloadAuthor | None:
    sender = _map(_map(value, "messagePayload"), "from")
    person = _map(sender, "user")
    person_id = _str(person, "id")
    if person_id:
        return PayloadAuthor(person_id, _str(person, "displayName"), is_bot=False)
    app = _map(sender, "application")
    app_id = _str(app, "id")
    if app_id:
        bot_id = app_id if is_bot_id(app_id) else f"{BOT_PREFIX}{app_id}"
        return PayloadAuthor(bot_id, _str(app, "displayName"), is_bot=True)
    return None


def message_action_event(
    env: Envelope, action: str, author: PayloadAuthor | None, author_id: str | None
) -> MessageActionInvoked:
    """`author_id` is the author's Bot Framework id when the adapter could resolve it."""
    value = _map(env.raw, "value")
    payload = _map(value, "messagePayload")
    data = _map(value, "data")
    author_ref = UserRef(env.workspace, author_id) if author_id else None
    profiles: dict[str, Profile] = {}
    if author_id and author is not None:
        profiles[author_id] = Profile(display_name=author.name, is_bot=author.is_bot)
    return MessageActionInvoked(
        event_id=env.event_id,
        actor=env.actor,
        occurred_at=env.occurred_at,
        actor_profile=env.actor_profile,
        profiles=profiles,
        raw=env.raw,
        action=action,
        message=MessageRef(
            env.conversation,
            _str(payload, "id") or env.event_id,
            thread_id=env.thread_id,
            link=_str(payload, "linkToMessage"),
        ),
        message_author=author_ref,
        message_text=html_to_text(_str(_map(payload, "body"), "content") or ""),
        # What the manifest's command parameters collected; the capability reads its own.
        inputs={k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)},
    )


def bot_was_added(env: Envelope) -> bool:
    return any(same_account(_str(m, "id"), env.bot_id) for m in _maps(env.raw, "membersAdded"))


def member_events(env: Envelope) -> list[MemberJoined]:
    events: list[MemberJoined] = []
    for member in _maps(env.raw, "membersAdded"):
        member_id = _str(member, "id")
        if member_id is None or same_account(member_id, env.bot_id):
            continue
        events.append(
            MemberJoined(
                event_id=f"{env.event_id}:joined:{member_id}",
                actor=UserRef(env.workspace, member_id),
                occurred_at=env.occurred_at,
                actor_profile=Profile(
                    display_name=_str(member, "name"), is_bot=is_bot_id(member_id)
                ),
                raw=env.raw,
                conversation=env.conversation,
            )
        )
    return events
