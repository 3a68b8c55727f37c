"""Mutual kudos through `allybot serve` on PostgreSQL: 500 pairs where A thanks B while B thanks
A at the same moment, by slash command and by reaction on each other's messages, all four at
once. 0 lost and 0 doubled: exact kudos per person and in total, exact counters and totals, no
5xx, the inbox drained. (The in-process version, 200 pairs by command, is
tests/test_kudos_concurrency.py; RELIABILITY.md says how the lock order and retry work.)"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import aiohttp

from tests.serve_support import (
    FORM,
    Process,
    SlackApi,
    command_form,
    fresh_postgres,
    post,
    query,
    reaction_event,
    scalar,
    wait_until,
)

PAIRS = int(os.environ.get("ALLYBOT_MUTUAL_PAIRS", "500"))  # the figure
IN_FLIGHT = 32  # pairs at once: 128 requests in flight


def _person(n: int) -> str:
    return f"UM{n}"


async def _drained(db_url: str) -> bool:
    waiting = await scalar(db_url, "SELECT count(*) FROM inbox WHERE status <> 'done'")
    return int(waiting) == 0


async def test_500_mutual_pairs_by_command_and_reaction_lose_nothing_and_count_nothing_twice(
    tmp_path: Path,
) -> None:
    people = 2 * PAIRS
    async with fresh_postgres() as db_url, SlackApi() as slack:
        for n in range(people):
            slack.add_user(_person(n), f"Person {n}")
        env = {"KUDOS_DAILY_ALLOWANCE": "1000", "LOG_LEVEL": "WARNING"}
        door = await Process.start(tmp_path, slack, db_url=db_url, **env)
        answers: list[tuple[str, int | str, bytes]] = []
        gate = asyncio.Semaphore(IN_FLIGHT)
        timeout = aiohttp.ClientTimeout(total=120)
        start = time.monotonic()
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:

                async def thank(giver: str, recipient: str, pair: int) -> None:
                    body = command_form(
                        giver,
                        f"kudos <@{recipient}> thanks for pair {pair}",
                        channel=f"D{giver}",  # a DM with the bot: no public post to pace
                        trigger=f"mutual-{giver}",
                    )
                    status, answer = await post(http, door.url, body, FORM)
                    answers.append(("command", status, answer))

                async def react(giver: str, author: str, pair: int) -> None:
                    # The message `giver` reacts to is `author`'s own, one per person.
                    body = reaction_event(
                        f"EvMutual-{giver}", giver=giver, author=author, ts=f"17000.{pair:06d}"
                    )
                    status, answer = await post(http, door.url, body)
                    answers.append(("reaction", status, answer))

                async def pair(i: int) -> None:
                    a, b = _person(2 * i), _person(2 * i + 1)
                    async with gate:
                        await asyncio.gather(
                            thank(a, b, i),
                            thank(b, a, i),
                            react(a, b, 2 * i + 1),
                            react(b, a, 2 * i),
                        )

                await asyncio.gather(*(pair(i) for i in range(PAIRS)))
            sent = time.monotonic() - start
            await wait_until(lambda: _drained(db_url), 180, "the inbox drained")
            applied = time.monotonic() - start
        finally:
            await door.stop()
        print(f"\n{PAIRS} pairs: sent in {sent:.1f}s, applied in {applied:.1f}s")
        assert door.proc.returncode == 0, door.tail()

        assert Counter(status for _, status, _ in answers) == {200: 4 * PAIRS}, door.tail()
        refused = [a for kind, _, a in answers if kind == "command" and b"Kudos sent" not in a]
        assert not refused, refused[:3]

        # 0 lost, 0 doubled: one kudos per giver, recipient and means; two given and two
        # received per person.
        by_means = await query(
            db_url,
            "SELECT source, count(*), count(DISTINCT (giver_id, recipient_id)) FROM kudos "
            "WHERE revoked_at IS NULL GROUP BY source ORDER BY source",
        )
        assert by_means == [("command", people, people), ("reaction", people, people)]
        for column in ("recipient_id", "giver_id"):
            per_person = await query(
                db_url, f"SELECT {column}, count(*) FROM kudos GROUP BY {column}"
            )
            assert len(per_person) == people and {n for _, n in per_person} == {2}, column
        # The counters and totals, written in the same transactions, agree.
        counters = await query(
            db_url,
            "SELECT counter, count(*), min(value), max(value) FROM member_counters "
            "WHERE counter IN ('kudos_received', 'kudos_given') GROUP BY counter ORDER BY counter",
        )
        assert counters == [("kudos_given", people, 2, 2), ("kudos_received", people, 2, 2)]
        totals = await query(
            db_url,
            "SELECT sum(received), sum(given), min(received), max(received) FROM kudos_totals "
            "WHERE period = 'all' AND value = ''",
        )
        assert totals == [(2 * people, 2 * people, 2, 2)]
        inbox = await query(db_url, "SELECT status, count(*) FROM inbox GROUP BY status")
        assert inbox == [("done", people)]
