"""Classifying a question to a topic: keywords and synonyms curators gave, and what routing
learned (the words of questions each ally resolved on a topic). Pure: no I/O, deterministic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.text import MENTION

# Words that say nothing about a topic (and would otherwise be learned as evidence everywhere).
STOP_WORDS = frozenset(
    """a about after again all also am an and any anyone anybody are as at be because been
    before being but by can cannot could did do does doing don done for from get gets getting
    got had has have having he help hello her here hey hi him his how i if im in into is it its
    just know knows like me my need needs no not now of on one or our out please pls so some
    someone somebody still thanks thank that the their them then there these they this those to
    too trying try up us use using want was we were what when where which who why will with
    would you your yours ive cant doesnt dont isnt wont whats""".split()  # noqa: SIM905
)
KEYWORD_POINTS = 10  # a topic's name, keyword or synonym in the question
LEARNED_CAP = 3  # one learned word counts at most this many resolved questions
LEARNED_MIN = 3  # learned evidence alone must reach this to count as a match
_WORD = re.compile(r"[a-z0-9][a-z0-9+#]*")
_LINK = re.compile(r"<[^<>]*>|https?://\S+")


def stem(word: str) -> str:
    """A light plural fold ("printers" -> "printer"), the same for questions and keywords."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The question's meaningful words, lower case, folded, in order, each once."""
    text = _LINK.sub(" ", MENTION.sub(" ", text)).lower().replace("'", "")
    found = (stem(w) for w in _WORD.findall(text) if len(w) >= 2 and w not in STOP_WORDS)
    return list(dict.fromkeys(w[:40] for w in found if w not in STOP_WORDS))


def keywords(text: str) -> tuple[str, ...]:
    """Keywords as curators type them ("vpn, remote access, wireguard"): phrases kept whole."""
    phrases = (" ".join(words(p)) for p in re.split(r"[,;\n]", text))
    return tuple(dict.fromkeys(p for p in phrases if p))


@dataclass(frozen=True, slots=True)
class TopicInfo:
    id: int
    name: str
    keywords: tuple[str, ...]  # normalised phrases
    description: str = ""
    # Set in __post_init__: the name and keywords as matched, and their first words (a phrase
    # can only match a question that has its first word).
    phrases: tuple[str, ...] = ()
    firsts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        name = " ".join(words(self.name.replace("-", " ")))
        phrases = tuple(p for p in dict.fromkeys((name, *self.keywords)) if p)
        object.__setattr__(self, "phrases", phrases)
        object.__setattr__(self, "firsts", frozenset(p.split(" ", 1)[0] for p in phrases))


@dataclass(frozen=True, slots=True)
class Match:
    """The topic a question was classified to (None: the general pool), and why."""

    topic: TopicInfo | None
    score: int
    reasons: tuple[str, ...]

    @property
    def explained(self) -> str:
        if self.topic is None:
            return "no topic matched, so I used the general pool"
        return "; ".join(self.reasons)


def classify(
    question: Sequence[str],
    topics: Iterable[TopicInfo],
    learned: Mapping[int, Mapping[str, int]],
    *,
    only: Sequence[TopicInfo] = (),
) -> Match:
    """The best topic for the question's `words`: keyword hits first, then learned evidence,
    then the name (deterministic). `only`: the help channel's topics, when it has some; with
    one topic and no match, that topic is used."""
    text = f" {' '.join(question)} "
    present = set(question)
    pool = list(only) if only else list(topics)
    best: Match | None = None
    for topic in pool:
        if topic.id not in learned and topic.firsts.isdisjoint(present):
            continue  # cheap first: no phrase of it can match
        hits = [p for p in topic.phrases if f" {p} " in text]
        evidence = learned.get(topic.id, {})
        learned_words = sorted(w for w in question if evidence.get(w))
        points = sum(min(evidence[w], LEARNED_CAP) for w in learned_words)
        score = KEYWORD_POINTS * len(hits) + points
        if not hits and points < LEARNED_MIN:
            continue
        reasons = []
        if hits:
            reasons.append("it mentions " + ", ".join(f"“{h}”" for h in hits))
        if points:
            shown = ", ".join(f"“{w}”" for w in learned_words[:3])
            reasons.append(f"{shown} came up in {topic.name} questions resolved before")
        candidate = Match(topic, score, tuple(reasons))
        if best is None or (score, _neg(topic.name)) > (best.score, _neg(best.topic.name)):  # type: ignore[union-attr]
            best = candidate
    if best is not None:
        return best
    if len(only) == 1:
        return Match(only[0], 0, ("it was asked in a channel for that topic",))
    return Match(None, 0, ())


def _neg(name: str) -> tuple[int, ...]:
    # Ties go to the alphabetically first name: compare negated code points.
    return tuple(-ord(c) for c in name)
