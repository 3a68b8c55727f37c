"""Typed command text through the core (issue 12): one strict parser for every number a person
types, a specific message for a bad one, and `badge rule SLUG off` restoring the catalogue."""

from __future__ import annotations

import pytest

from bot.args import whole_number
from bot.core import Allybot
from bot.errors import UsageError
from bot.messages import plain_text
from tests.conftest import GENERAL, user
from tests.helpers import command
from tests.hostile import leaks


async def run(core: Allybot, text: str, who: str = "ana") -> str:
    reply = await core.handle(command(user(who), text, GENERAL, core.services.clock.now()))
    await core.run_due()
    assert reply is not None, text
    return plain_text(reply.message.text)


@pytest.mark.parametrize(
    "text", ["5", "05", " 7 ", "1000"], ids=["plain", "leading zero", "spaces", "the top"]
)
def test_whole_number_takes_ascii_digits(text: str) -> None:
    assert whole_number(text, 1, 1000) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "²",
        "①",
        "١٢",
        "\U0001d7d3",
        "5.0",
        "-5",
        "+5",
        "1e3",
        "0",
        "1001",
        "9" * 5000,
        "5 5",
        "0x10",
    ],
)
def test_whole_number_refuses_everything_else_specifically(text: str) -> None:
    with pytest.raises(UsageError) as refused:
        whole_number(text, 1, 1000, what="The allowance", usage="Example: config allowance 5")
    message = str(refused.value)
    assert message.startswith("The allowance must be a whole number from 1 to 1000, not “")
    assert message.endswith("\nExample: config allowance 5")


# Every command that takes a number someone types, with Unicode digits in its place.
NUMBER_COMMANDS = [
    ("config allowance ²", "must be a whole number from 1 to 1000"),
    ("config allowance ١٢", "must be a whole number from 1 to 1000"),
    ("config allowance " + "9" * 5000, "must be a whole number from 1 to 1000"),
    ("badge rule appreciated kudos_given ①", "N must be a whole number from 1 to 1000000"),
    ("badge rule appreciated kudos_given ²", "N must be a whole number from 1 to 1000000"),
    ("config feedback-aging ³", "must be a whole number from 1 to 30"),
    ("feedback vote FB-²", "is not a feedback id"),
    ("feedback show ①", "is not a feedback id"),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_COMMANDS)
async def test_unicode_digits_in_commands_get_a_specific_message(
    core: Allybot, text: str, expected: str
) -> None:
    answer = await run(core, text)
    assert expected in answer, answer
    assert not leaks(answer)


async def how_to_earn(core: Allybot, slug: str) -> str:
    reply = await core.handle(
        command(user("ana"), f"badge show {slug}", GENERAL, core.services.clock.now())
    )
    assert reply is not None and reply.message.card is not None
    (how,) = [f for f in reply.message.card.sections[0].fields if f.label == "How to earn it"]
    return plain_text(how.value)


async def test_badge_rule_off_restores_how_to_earn_it(core: Allybot) -> None:
    assert "Rule saved" in await run(core, "badge rule appreciated kudos_received 50")
    assert await how_to_earn(core, "appreciated") == "50 kudos received"
    assert "awarded by hand only" in await run(core, "badge rule appreciated off")
    # Before the fix it kept saying "How: 50 kudos received" with no rule behind it.
    assert await how_to_earn(core, "appreciated") == "awarded by curators"
    catalogue = await core.handle(
        command(user("ana"), "badges", GENERAL, core.services.clock.now())
    )
    assert catalogue is not None
    assert "50 kudos received" not in str(catalogue.message)
    assert "How: awarded by curators" in str(catalogue.message)
