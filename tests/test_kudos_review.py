"""`kudos review`: pairs thanking each other far above the norm are shown, not blocked."""

from __future__ import annotations

from bot.kudos.review import find_rings
from store.kudos_review import PairCount
from tests.conversation import Chat


def test_find_rings_uses_the_workspace_norm() -> None:
    counts = [
        PairCount(1, 2, 5),
        PairCount(2, 1, 4),
        PairCount(3, 4, 1),
        PairCount(4, 3, 1),
        PairCount(5, 1, 1),
    ]
    review = find_rings(counts)
    assert review.typical == 1 and review.threshold == 3
    (ring,) = review.rings
    assert (ring.a, ring.b, ring.a_to_b, ring.b_to_a) == (1, 2, 5, 4)
    assert ring.share == 9 / 9  # 1 and 2 gave kudos only to each other


def test_a_generous_workspace_raises_the_bar() -> None:
    # Everyone thanks everyone four times: nobody stands out, so nobody is flagged.
    counts = [PairCount(a, b, 4) for a in range(1, 5) for b in range(1, 5) if a != b]
    review = find_rings(counts)
    assert review.threshold == 12 and review.rings == []


def test_one_sided_thanks_are_not_a_ring() -> None:
    assert find_rings([PairCount(1, 2, 9), PairCount(2, 1, 1)]).rings == []


async def test_kudos_review_lists_the_pair_for_community_managers(chat: Chat) -> None:
    for day in range(4):
        assert "Kudos sent" in await chat.say("ana", f"kudos @bo thanks for the review {day}")
        assert "Kudos sent" in await chat.say("bo", f"kudos @ana thanks for the pairing {day}")
        await chat.later(days=1)
    # The rest of the workspace: thanks once in a while, to different people.
    for giver, recipient in [("cy", "dee"), ("dee", "cy"), ("cy", "ana"), ("dee", "bo")]:
        assert "Kudos sent" in await chat.say(giver, f"kudos @{recipient} thanks for the docs")
    assert "Kudos sent" in await chat.say("ana", "kudos @cy thanks for the demo")
    assert "Kudos sent" in await chat.say("bo", "kudos @dee thanks for the demo")

    review = await chat.say("ana", "kudos review")
    assert "1 pair to look at in the last 30 days." in review
    assert "@Ana → @Bo: 4, @Bo → @Ana: 4 (80% of all the kudos they gave)" in review
    assert "each thanked the other at least 3 times in 30 days" in review

    assert "No pair of people" in await chat.say("ana", "kudos review 2")  # 2 each in 2 days
    assert "DAYS must be a whole number from 1 to 365, not “²”" in await chat.say(
        "ana", "kudos review ²"
    )
    assert "not “0”" in await chat.say("ana", "kudos review 0")
    refused = await chat.say("cy", "kudos review")
    assert "community manager" in refused.lower()
    # Still allowed: the pair keeps thanking each other.
    assert "Kudos sent" in await chat.say("ana", "kudos @bo thanks again")
