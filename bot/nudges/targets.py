"""`for: interest, office ...`: who a content item or a request is for, checked against the
roster (an interest some ambassador has, or an office), so a typo is an error, not a campaign
that reaches nobody."""

from __future__ import annotations

from bot.errors import UsageError
from bot.nudges import sources
from bot.nudges.campaigns import Target
from bot.work import Work

MARK = "for:"


def split_for(words: list[str]) -> tuple[list[str], str]:
    """(the words before `for:`, the text after it)."""
    for i, word in enumerate(words):
        if word.lower() == MARK or word.lower().startswith(MARK):
            rest = [word[len(MARK) :], *words[i + 1 :]]
            return words[:i], " ".join(w for w in rest if w)
    return words, ""


async def parse(work: Work, text: str) -> tuple[Target, str]:
    """The target, and how people read it ("design, Paris")."""
    if not text.strip():
        return Target(), ""
    offices = await sources.offices(work.session, work.ws_id)
    interests = await sources.known_interests(work.session, work.ws_id)
    found_interests: set[str] = set()
    found_offices: set[int] = set()
    shown: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.casefold() in offices:
            office = offices[part.casefold()]
            found_offices.add(office.id)
            shown.append(office.name)
            continue
        for word in part.split():
            key = word.lstrip("#").casefold()
            if key in offices:
                found_offices.add(offices[key].id)
                shown.append(offices[key].name)
            elif key in interests:
                found_interests.add(key)
                shown.append(key)
            else:
                known = ", ".join(sorted(interests)) or "none yet"
                places = ", ".join(sorted(o.name for o in offices.values())) or "none yet"
                raise UsageError(
                    f"“{word}” is neither an ambassador interest (known: {known}) nor an office "
                    f"(offices: {places})."
                )
    return Target(frozenset(found_interests), frozenset(found_offices)), ", ".join(shown)
