"""Reading an untrusted HTTP body at the edge, before any SDK or translation sees it.

What both platforms' checks share: the body must be UTF-8 (and say so, if it names a charset),
JSON must parse, nest at most MAX_DEPTH levels and hold no text a database or an HTTP header
would choke on later. Each check answers with the reason, for a 400 and a log line.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Real Slack and Bot Framework payloads nest about 10 levels (Block Kit in a message in an
# envelope); anything far deeper is an attack on the parsers, not a payload.
MAX_DEPTH = 64
# PostgreSQL refuses NUL in text, and a lone surrogate (JSON's "\ud800") cannot be encoded to
# UTF-8 again: both would fail deep inside a unit of work, so they are refused here.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Rejected(ValueError):
    """The body can't be a platform request; `str(exc)` says why, for the 400."""


def decode(body: bytes, charset: str | None) -> str:
    """The body as text. Only UTF-8 is accepted: both platforms send nothing else."""
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise Rejected(f"unsupported charset {charset!r}; expected utf-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("body is not UTF-8") from None


def loads(text: str, what: str = "body") -> Any:
    """Parses JSON, bounded in depth; the result holds only storable text."""
    try:
        data = json.loads(text)
    except RecursionError:  # the C parser's own guard, far past MAX_DEPTH
        raise Rejected(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise Rejected(f"{what} is not valid JSON") from None
    # Decoded UTF-8 holds no surrogate and the parser refuses raw control characters, so only
    # a \u escape can bring either in: without one, no string needs looking at.
    check_tree(data, what, texts="\\u" in text)
    return data


def check_tree(data: Any, what: str = "body", *, texts: bool = True) -> None:
    """Walks a parsed value without recursion: depth, and (`texts`) the text inside keys and
    values."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if texts:
                check_text(value, what)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise Rejected(f"{what} nests deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    if texts:
                        check_text(key, what)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def check_text(value: str, what: str = "body") -> None:
    if _UNSTORABLE.search(value):
        raise Rejected(f"{what} contains a NUL character or an unpaired surrogate")
