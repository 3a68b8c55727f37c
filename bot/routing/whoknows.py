"""`whoknows TEXT`: people who know about it, ranked by topic match and answers given on the
topic, each with the reason and whether they are available now."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UsageError
from bot.events import CommandInvoked
from bot.messages import Message, Reply, rich
from bot.routing import classify
from bot.routing.context import Context
from bot.routing.ranking import Candidate, reason
from bot.work import Work
from store import routing as store

LIMIT = 5


@dataclass(frozen=True, slots=True)
class Known:
    candidate: Candidate
    score: int
    evidence: int
    available: bool
    why: str


class WhoKnows:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.s

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        text = args.strip()
        if not classify.words(text):
            raise UsageError(
                "Say what you want to know about, e.g. whoknows vpn on linux (a few words "
                "besides “how”, “who” and the like)."
            )

        async def read(work: Work) -> str:
            await work.person(event.actor, event.actor_profile)
            found, topic = await self.find(work, text)
            if not found:
                about = f" about {topic}" if topic else ""
                return f"I don't know anyone{about} yet. Curators tag experts with expert add."
            lines = [f"• {k.candidate.name}: {k.why}" for k in found]
            return f"Who knows about “{text[:80]}”:\n" + "\n".join(lines)

        return Reply(message=Message(text=rich(await self.s.run(event, read))))

    async def find(self, work: Work, text: str) -> tuple[list[Known], str | None]:
        words = classify.words(text)
        topics = await self.ctx.topics(work)
        learned = await store.evidence_by_topic(work.session, work.ws_id, words)
        match = classify.classify(words, topics, learned)
        topic = match.topic
        people = await self.ctx.candidates(work, topic.id, managers=False) if topic else []
        # People who resolved questions with these words, on any topic.
        evidence = await store.evidence_by_member(work.session, work.ws_id, words, limit=50)
        known_ids = {c.member_id for c in people}
        extra = [m for m in evidence if m not in known_ids]
        if extra:
            people += await self.ctx.candidates(
                work, topic.id if topic else None, managers=False, member_ids=extra
            )
        config = await self.ctx.config(work)
        presence = self.ctx.presence.known()
        out = []
        for c in people:
            available = c.unavailable(work.now, presence.get(c.ref), config.away_words) is None
            why = reason(c, topic.name if topic else None, available)
            hits = evidence.get(c.member_id, 0)
            if hits and not c.resolved:
                why = f"resolved questions about these words ({hits}); " + why
            out.append(Known(c, c.fit + min(hits, 10), hits, available, why))
        out.sort(key=lambda k: (-k.score, not k.available, k.candidate.member_id))
        return out[:LIMIT], topic.name if topic else None
