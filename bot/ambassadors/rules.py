"""The program's rules, with no I/O: what a valid channel name, office, theme, number or text is,
and the defaults a new workspace starts with. Every refusal says what was wrong and the
expected form."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import args
from bot.errors import UsageError, UserError
from bot.text import CHANNEL

AMBASSADOR = "ambassador"
MANAGER = "manager"
TRACKS = (AMBASSADOR, MANAGER)
TRACK_LABELS = {AMBASSADOR: "ambassador training", MANAGER: "community-manager onboarding"}

DEFAULT_EXPECTATIONS = (
    "Ambassadors welcome newcomers, answer questions in their office's channels, share what "
    "the community is doing, and pass on what people need. Expect about two hours a month, "
    "and one community event a quarter."
)
# One default checklist per track, each step editable (title, link).
DEFAULT_STEPS: dict[str, tuple[tuple[str, str | None], ...]] = {
    AMBASSADOR: (
        ("Read the ambassador role and its expectations (ambassador role)", None),
        ("Introduce yourself in your office's community channel", None),
        ("Answer a first question or host a first meetup with a community manager", None),
    ),
    MANAGER: (
        ("Write the community's purpose in the channel topic", None),
        ("Pin the community guidelines in the channel", None),
        ("Plan the first post or kick-off event", None),
    ),
}
DEFAULT_TARGET = 1  # ambassadors per office
DEFAULT_REMINDER_DAYS = 7
STANCE = "The program's default stance: open unless there is a reason."

MAX_WHY = 1000
MAX_TEXT = 2000
MAX_STEP = 200
MAX_LINK = 1000
MAX_OFFICE = 80
MAX_THEMES = 20
MAX_CHANNEL = 80
MAX_NUMBER = 10**6

# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_REQUEST_ID = re.compile(r"(?:r-?)?([0-9]{1,7})", re.IGNORECASE)
_THEME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_OFFICE = re.compile(r"[^\W_](?:[\w .'&-]*[^\W_])?")
_CHANNEL_OK = re.compile(r"[a-z0-9_-]+")
_QUOTES = ('"', "\u201c", "\u201d", "\u201e")


def rn(number: int) -> str:
    return f"R-{number}"


def whole_number(text: str, what: str, low: int, high: int, example: str) -> int:
    """A number a person typed, through the one strict parser (ASCII digits, within range)."""
    return args.whole_number(text, low, high, what=what, usage=f"e.g. {example}")


def request_number(token: str) -> int:
    """R-7, r7 or 7 -> 7."""
    token = token.strip()
    if not token:
        raise UsageError("Which request? Name it like R-7 (community requests lists them).")
    match = _REQUEST_ID.fullmatch(token)
    if not match:
        raise UsageError(
            f"“{token[:40]}” is not a request id; expected one like R-7 "
            "(community requests lists them)."
        )
    return int(match.group(1))


def starts_quoted(text: str) -> bool:
    return text.strip()[:1] in _QUOTES


def checked_text(text: str | None, what: str, limit: int = MAX_TEXT) -> str | None:
    """Trimmed text, None when empty; refuses text over `limit` characters."""
    value = (text or "").strip()
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] in _QUOTES:
        value = value[1:-1].strip()
    if len(value) > limit:
        raise UserError(
            f"That {what} is {len(value):,} characters long; keep it to {limit:,} or fewer."
        )
    return value or None


def channel_name(token: str) -> str:
    """A name Slack would accept for a new channel (lowercase letters, digits, hyphens and
    underscores, at most 80), without its "#"; refused with what to change otherwise."""
    if CHANNEL.fullmatch(token.strip()):
        existing = CHANNEL.fullmatch(token.strip())
        assert existing is not None
        label = existing.group(2) or existing.group(1)
        raise UserError(
            f"#{label} already exists, so it can't be requested; pick a new name, "
            "e.g. community request #design-guild “a place for designers”"
        )
    name = token.strip().removeprefix("#")
    example = "e.g. #design-guild"
    if not name:
        raise UsageError(
            "Name the channel, e.g. community request #design-guild “a place for designers”"
        )
    if len(name) > MAX_CHANNEL:
        raise UserError(
            f"That channel name is {len(name)} characters long; Slack allows at most "
            f"{MAX_CHANNEL}. Pick a shorter one, {example}"
        )
    if any(c.isspace() for c in name):
        suggestion = re.sub(r"\s+", "-", name.strip().lower())
        raise UserError(
            f"Channel names can't contain spaces: use hyphens instead, e.g. #{suggestion[:80]}"
        )
    if name != name.lower():
        raise UserError(
            f"Channel names must be lowercase: #{name} would be rejected; use #{name.lower()}"
        )
    if not _CHANNEL_OK.fullmatch(name):
        bad = "".join(dict.fromkeys(c for c in name if not _CHANNEL_OK.fullmatch(c)))
        raise UserError(
            f"Channel names can only contain lowercase letters, digits, hyphens and "
            f"underscores; “{bad}” is not allowed in #{name}. {example.capitalize()}"
        )
    return name


def office_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise UsageError('Name the office, e.g. office add Paris tz Europe/Paris (or "New York").')
    if len(name) > MAX_OFFICE:
        raise UserError(
            f"That office name is {len(name)} characters long; keep it to {MAX_OFFICE} or fewer."
        )
    if not _OFFICE.fullmatch(name):
        raise UserError(
            f"“{name}” is not an office name I can use; use letters, digits, spaces, hyphens, "
            "apostrophes, dots or &, e.g. office add “New York” tz America/New_York"
        )
    return name


def time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"“{name[:60]}” is not a time zone I know; use an IANA name like Europe/Paris or "
            "America/New_York."
        ) from None
    if "/" not in name and name != "UTC":
        raise UserError(
            f"“{name[:60]}” is not a time zone I know; use an IANA name like Europe/Paris or "
            "America/New_York."
        )
    return name


def themes(words: list[str]) -> list[str]:
    """Interests as lowercase themes (#design or design), in order, without repeats."""
    out: list[str] = []
    for word in words:
        theme = word.strip().removeprefix("#").lower()
        if not _THEME.fullmatch(theme):
            raise UserError(
                f"“{word[:40]}” is not a theme I can use; use one word per theme (letters, "
                "digits, - or _), e.g. ambassador interests design events onboarding"
            )
        if theme not in out:
            out.append(theme)
    if len(out) > MAX_THEMES:
        raise UserError(f"That's {len(out)} themes; keep it to {MAX_THEMES} or fewer.")
    return out


def step_link(text: str | None) -> str | None:
    link = (text or "").strip() or None
    if link is None:
        return None
    if len(link) > MAX_LINK or not re.fullmatch(r"https?://\S+", link):
        raise UserError(
            f"“{link[:60]}” is not a link I can use; expected an http(s) address, e.g. "
            "https://wiki.example.com/ambassadors"
        )
    return link


def reorder(words: list[str], count: int) -> list[int]:
    """`training reorder 3 1 2`: the new order, as 0-based indexes of the current steps."""
    example = "training reorder " + " ".join(str(n) for n in range(count, 0, -1))
    if len(words) != count:
        raise UsageError(
            f"Give every step's number once, in the new order: the checklist has {count} "
            f"step{'s' if count != 1 else ''}, e.g. {example}"
        )
    numbers = [whole_number(w, "step number", 1, max(count, 1), example) for w in words]
    if sorted(numbers) != list(range(1, count + 1)):
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        raise UsageError(
            f"Step {repeated[0]} is listed twice; give every step's number once, e.g. {example}"
        )
    return [n - 1 for n in numbers]
