"""Two `allybot serve` replicas on one PostgreSQL database, as processes: each with its own port
and its own worker processes, one fake Slack Web API between them (on two ports, to tell their
calls apart). One stream of signed reactions is split between them, most events redelivered to
the other replica at the same moment (Slack's X-Slack-Retry-Num), some again later. Counts are
exact, every job runs once, every message is sent once, and the kudos channel's pace (one post
a second with Slack's short burst, bot/pacing.py) holds across both replicas."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from pathlib import Path

import aiohttp

from bot.pacing import Pace
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

# Every kudos is also posted in the kudos channel, one a second: the stream's size is the
# test's length in seconds. ALLYBOT_REPLICA_EVENTS=200 for a longer run.
EVENTS = int(os.environ.get("ALLYBOT_REPLICA_EVENTS", "40"))
KUDOS_CHANNEL = "C9"
SLACK_CHANNEL_PACE = Pace(1.0, burst=3)  # Slack's chat.postMessage lane (bot/pacing.py)
# Between the claim (where the pace is kept) and the fake receiving the post: a process's
# event loop, a connection, two busy cores.
JITTER = 0.5


def paced(times: list[float], pace: Pace, jitter: float) -> list[tuple[int, int, float]]:
    """The pairs of sends closer together than the pace allows: for sends i < j, GCRA lets
    j - i sends through in (j - i) * interval - tolerance at the least."""
    tolerance = pace.tolerance.total_seconds()
    return [
        (i, j, times[j] - times[i])
        for i, j in itertools.combinations(range(len(times)), 2)
        if times[j] - times[i] < (j - i) * pace.interval - tolerance - jitter
    ]


def test_the_pace_check_catches_two_replicas_pacing_on_their_own() -> None:
    alone = [float(n) for n in range(20)]
    assert paced(alone, SLACK_CHANNEL_PACE, JITTER) == []
    both = sorted(alone + [t + 0.5 for t in alone])  # each replica at 1/s: 2/s together
    assert paced(both, SLACK_CHANNEL_PACE, JITTER)


def _reaction(i: int) -> bytes:
    return reaction_event(f"EvRep{i}", giver=f"UG{i}", author=f"UA{i}", ts=f"17000.{i:06d}")


async def _settled(db_url: str) -> bool:
    waiting = await scalar(db_url, "SELECT count(*) FROM inbox WHERE status <> 'done'")
    unfinished = await scalar(db_url, "SELECT count(*) FROM jobs WHERE status <> 'done'")
    return int(waiting) == 0 and int(unfinished) == 0


async def test_two_replicas_count_exactly_run_every_job_once_and_keep_the_pace(
    tmp_path: Path,
) -> None:
    async with fresh_postgres() as db_url, SlackApi() as slack:
        slack.add_user("UADMIN", "Admin")
        for i in range(EVENTS):
            slack.add_user(f"UG{i}", f"Giver {i}")
            slack.add_user(f"UA{i}", f"Author {i}")
        env = {"ALLYBOT_ADMINS": "UADMIN", "LOG_LEVEL": "WARNING"}
        a, b = await asyncio.gather(
            Process.start(tmp_path, slack, db_url=db_url, name="replica-a", **env),
            Process.start(
                tmp_path, slack, db_url=db_url, name="replica-b", slack_url=slack.url_b, **env
            ),
        )
        replicas = (a, b)
        statuses: list[int | str] = []
        try:
            async with aiohttp.ClientSession() as http:
                body = command_form(
                    "UADMIN", "config kudos-channel here", channel=KUDOS_CHANNEL, trigger="cfg"
                )
                status, answer = await post(http, a.url, body, FORM)
                assert status == 200 and b"Saved" in answer, (status, answer)

                gate = asyncio.Semaphore(16)

                async def send(replica: Process, i: int, retry: int = 0) -> None:
                    async with gate:
                        status, _ = await post(http, replica.url, _reaction(i), retry=retry)
                    statuses.append(status)

                async def deliver(i: int) -> None:
                    first, other = replicas[i % 2], replicas[(i + 1) % 2]
                    sends = [send(first, i)]
                    if i % 4 != 3:  # three in four: redelivered to the other replica at once
                        sends.append(send(other, i, retry=1))
                    await asyncio.gather(*sends)

                await asyncio.gather(*(deliver(i) for i in range(EVENTS)))
                # Later retries, crossing again, of events applied (or being applied) by now.
                await asyncio.gather(
                    *(send(replicas[(i + 1) % 2], i, retry=2) for i in range(0, EVENTS, 3))
                )
            await wait_until(lambda: _settled(db_url), EVENTS + 60, "both replicas drained")
        finally:
            await asyncio.gather(a.stop(), b.stop())
        assert set(statuses) == {200}, Counter(statuses)
        assert (a.proc.returncode, b.proc.returncode) == (0, 0), a.tail() + b.tail()

        # Counts exact: one inbox row and one kudos per event, whoever got it and how often.
        assert await scalar(db_url, "SELECT count(*) FROM inbox") == EVENTS
        kudos = await query(db_url, "SELECT message_id, count(*) FROM kudos GROUP BY message_id")
        assert len(kudos) == EVENTS and all(n == 1 for _, n in kudos)
        # Every job ran once: done, on its first attempt.
        jobs = await query(db_url, "SELECT status, attempts, count(*) FROM jobs GROUP BY 1, 2")
        assert [(status, attempts) for status, attempts, _ in jobs] == [("done", 1)], jobs

        # Every message sent once: a DM to each author, one post per kudos in the channel.
        assert slack.dms() == {f"UA{i}": 1 for i in range(EVENTS)}
        sent = Counter(
            (str(c.args.get("channel")), str(c.args.get("text")))
            for c in slack.calls_to("chat.postMessage")
        )
        assert max(sent.values()) == 1, [m for m, n in sent.items() if n > 1]
        posts = slack.posts(KUDOS_CHANNEL)
        assert len(posts) == EVENTS
        # Both replicas posted there, and together they kept the channel's pace.
        via_b = sum(1 for _, index in posts if slack.via_b(index))
        assert 0 < via_b < EVENTS, via_b
        times = [at for at, _ in posts]
        assert paced(times, SLACK_CHANNEL_PACE, JITTER) == []
