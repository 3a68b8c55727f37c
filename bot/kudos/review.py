"""`kudos review`: pairs of people thanking each other far above the workspace's norm.

Recognition between close colleagues is normal, so nothing is blocked: community managers see
the pairs, with the figures that flagged them, and judge for themselves. A pair is flagged when
each has thanked the other at least `MIN_EACH` times in the window and at least `FACTOR` times
as often as a typical giver thanks a typical recipient (the median over all giver-recipient
pairs), so a workspace where everyone thanks a lot does not flag everyone.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import timedelta

from bot.args import whole_number
from bot.events import CommandInvoked
from bot.ids import UserRef
from bot.messages import Card, Message, Name, Reply, Section, rich
from bot.roles import Permission, Role, Roles
from bot.services import Services
from bot.work import Work
from store import kudos_review as store
from store.kudos_review import PairCount

REVIEW_KUDOS = Permission(
    "kudos.review",
    "see pairs of people thanking each other far above the norm (kudos review)",
    (Role.COMMUNITY_MANAGER,),
)
DEFAULT_DAYS = 30
MIN_EACH = 3
FACTOR = 3.0
USAGE = "kudos review [DAYS]  (DAYS from 1 to 365; default 30)"


@dataclass(frozen=True, slots=True)
class Ring:
    a: int  # member ids, a < b
    b: int
    a_to_b: int
    b_to_a: int
    share: float  # of all the kudos these two gave, the part they gave each other

    @property
    def total(self) -> int:
        return self.a_to_b + self.b_to_a


@dataclass(frozen=True, slots=True)
class Review:
    rings: list[Ring]
    typical: float  # the median kudos per giver-recipient pair
    threshold: int  # what each direction had to reach


def find_rings(counts: list[PairCount]) -> Review:
    if not counts:
        return Review([], 0.0, MIN_EACH)
    typical = float(statistics.median(c.kudos for c in counts))
    threshold = max(MIN_EACH, math.ceil(FACTOR * typical))
    given: dict[int, int] = {}
    between: dict[tuple[int, int], int] = {}
    for c in counts:
        given[c.giver_id] = given.get(c.giver_id, 0) + c.kudos
        between[(c.giver_id, c.recipient_id)] = c.kudos
    rings = []
    for (giver, recipient), n in between.items():
        back = between.get((recipient, giver), 0)
        if giver < recipient and n >= threshold and back >= threshold:
            share = (n + back) / (given[giver] + given[recipient])
            rings.append(Ring(giver, recipient, n, back, share))
    rings.sort(key=lambda r: (-r.total, r.a, r.b))
    return Review(rings, typical, threshold)


class KudosReview:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.roles = Roles(services)

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        days = _days(args.strip())

        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            await self.roles.require(viewer, REVIEW_KUDOS, work.session)
            counts = await store.pair_counts(
                work.session, work.ws_id, work.now - timedelta(days=days)
            )
            review = find_rings(counts)
            people = await store.names(work.session, {m for r in review.rings for m in (r.a, r.b)})
            return Reply(message=_message(work, review, people, days))

        return await self.s.run(event, read)


def _days(text: str) -> int:
    if not text:
        return DEFAULT_DAYS
    return whole_number(text, 1, 365, what="DAYS", usage=f"Usage: {USAGE}")


def _message(work: Work, review: Review, people: dict[int, tuple[str, str]], days: int) -> Message:
    def name(member_id: int) -> Name:
        external, display = people[member_id]
        return Name(user=UserRef(work.workspace, external), name=display)

    basis = (
        f"Flagged: each thanked the other at least {review.threshold} times in {days} days "
        f"(a typical pair: {review.typical:g}). Nothing is blocked; close colleagues often "
        "thank each other."
    )
    if not review.rings:
        text = rich(f"No pair of people thanked each other far above the norm in {days} days.")
        return Message(text=text, card=Card(title="Kudos review", sections=(Section(text=text),)))
    lines = [
        rich(
            name(r.a),
            " → ",
            name(r.b),
            f": {r.a_to_b}, ",
            name(r.b),
            " → ",
            name(r.a),
            f": {r.b_to_a} ({r.share:.0%} of all the kudos they gave)",
        )
        for r in review.rings[:20]
    ]
    more = len(review.rings) - len(lines)
    context = rich(basis + (f" {more} more pairs not shown." if more > 0 else ""))
    count = len(review.rings)
    head = rich(f"{count} pair{'s' if count != 1 else ''} to look at in the last {days} days.")
    text = head + tuple(p for line in lines for p in (*rich("\n"), *line)) + rich("\n") + context
    return Message(
        text=text,
        card=Card(
            title="Kudos review",
            sections=(Section(text=head), *(Section(text=line) for line in lines)),
            context=context,
        ),
    )
