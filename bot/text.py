"""The core's normalised text: mentions are `<@USER_ID>`, everything else is what people typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.ids import UserRef, WorkspaceRef
from bot.messages import Inline, Name, Plain, Rich

MENTION = re.compile(r"<@([^<>|\s]+)(?:\|[^<>]*)?>")
CHANNEL = re.compile(r"<#([^<>|\s]+)(?:\|([^<>]*))?>")
# "#teamwork", or a channel reference that a platform made of it ("<#C123|teamwork>").
VALUE = re.compile(r"(?<![\w&])#([A-Za-z][\w-]{0,39})|<#[^<>|\s]+\|([A-Za-z][\w-]{0,39})>")


def mention_token(user_id: str) -> str:
    return f"<@{user_id}>"


def mentioned_ids(text: str) -> list[str]:
    return list(dict.fromkeys(MENTION.findall(text)))


def values_in(text: str) -> list[str]:
    """Hashtag values (#teamwork), lower-cased, in order, without repeats."""
    return list(dict.fromkeys((a or b).lower() for a, b in VALUE.findall(text)))


def user_text(text: str, workspace: WorkspaceRef, name_of: Callable[[UserRef], str]) -> Rich:
    """Turns stored user text into rich text: mentions become names (no ping), the rest plain."""
    parts: list[Inline] = []
    pos = 0
    for match in MENTION.finditer(text):
        if match.start() > pos:
            parts.append(Plain(text=text[pos : match.start()]))
        user = UserRef(workspace, match.group(1))
        parts.append(Name(user=user, name=name_of(user)))
        pos = match.end()
    if pos < len(text):
        parts.append(Plain(text=text[pos:]))
    return tuple(parts)
