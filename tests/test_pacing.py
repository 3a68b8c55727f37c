"""Paced lanes: the pacing rule, the lanes table, and deliveries paced across workers.

Store and delivery tests run on SQLite and PostgreSQL (the `db` fixture) with a ManualClock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.delivery import KIND, Delivery
from bot.ids import ConversationRef, Platform, UserRef, WorkspaceRef
from bot.messages import Edit, Message, Outbound, Private, Target, ToConversation, ToUser, rich
from bot.pacing import LanePacing, Pace, lane_for, pace_of, workspace_pace_of
from bot.ports import Capabilities, DeliveryError, Sent
from bot.scheduler import JobContext, Scheduler
from store import Database
from store import jobs as job_store
from store import lanes as lane_store
from store import workspaces as ws_store
from tests.memory_port import MemoryPort

WS = WorkspaceRef(Platform.CONSOLE, "acme")
T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


# ----- the rule -----------------------------------------------------------------------------


def test_pace_lets_a_burst_through_then_one_per_interval() -> None:
    pace = Pace(1.0, burst=3, reserve=0)
    now = T0
    next_at = lane_store.IDLE
    starts: list[float] = []
    while now - T0 < seconds(10):  # a greedy sender, trying again every 50 ms when refused
        moved = pace.admit(next_at, now)
        if moved is None:
            now += seconds(0.05)
            continue
        next_at = moved
        starts.append((now - T0).total_seconds())
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert [round(s, 2) for s in starts[3:]] == [float(i) for i in range(1, 10)]


def test_an_idle_lane_regains_its_burst() -> None:
    pace = Pace(1.0, burst=2, reserve=0)
    next_at = pace.admit(lane_store.IDLE, T0)
    assert next_at is not None
    next_at = pace.admit(next_at, T0)
    assert next_at is not None and pace.admit(next_at, T0) is None
    later = T0 + seconds(10)
    first = pace.admit(next_at, later)
    assert first is not None and pace.admit(first, later) is not None


def test_the_last_send_of_a_burst_waits_the_jitter_reserve() -> None:
    pace = Pace(1.0, burst=3)  # reserve 0.25 s
    next_at = lane_store.IDLE
    for _ in range(2):
        moved = pace.admit(next_at, T0)
        assert moved is not None
        next_at = moved
    assert pace.admit(next_at, T0) is None
    assert next_at == T0 + seconds(0.25)
    moved = pace.admit(next_at, next_at)
    assert moved == T0 + seconds(1.25)  # and one per second from there: a shift, not a loss


def _max_in_window(starts: list[float], window: float) -> int:
    return max(sum(1 for t in starts if s <= t < s + window) for s in starts)


def test_the_teams_pace_keeps_every_published_window() -> None:
    pace = pace_of(
        Capabilities(
            ephemeral=False,
            reactions_on_any_message=False,
            command_prefix="",
            lane_interval=0.55,
            lane_burst=4,
        )
    )
    assert pace is not None
    now, next_at, starts = T0, lane_store.IDLE, []
    while now - T0 < seconds(120):
        moved = pace.admit(next_at, now)
        if moved is not None:
            next_at = moved
            starts.append((now - T0).total_seconds())
            continue
        now += seconds(0.01)
    # Microsoft's per bot per thread limits: 7 in 1 s, 8 in 2 s, 60 in 30 s.
    assert _max_in_window(starts, 1) <= 7
    assert _max_in_window(starts, 2) <= 8
    assert _max_in_window(starts, 30) <= 60


def test_lanes_are_named_by_conversation_or_person() -> None:
    channel = ConversationRef(WS, "C42")
    ana = UserRef(WS, "U1")
    assert lane_for(WS, ToConversation(conversation=channel)) == "console:acme:C42"
    assert lane_for(WS, ToUser(user=ana)) == "console:acme:@U1"
    assert lane_for(WS, Private(user=ana, conversation=channel)) == "console:acme:C42"
    # Where there are no ephemerals a private message is a DM, and counted as one.
    private = Private(user=ana, conversation=channel)
    assert lane_for(WS, private, ephemeral=False) == "console:acme:@U1"
    assert (
        pace_of(Capabilities(ephemeral=True, reactions_on_any_message=True, command_prefix=""))
        is None
    )


# ----- the lanes table ----------------------------------------------------------------------


async def test_lanes_are_created_pushed_and_pruned(db: Database, clock: ManualClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        await lane_store.ensure(session, ["b", "a", "a"])
        held = await lane_store.lock(session, ["a", "b", "c"])
        assert held == {"a": lane_store.IDLE, "b": lane_store.IDLE}
        await lane_store.move(session, {"a": now + seconds(1)})
    async with db.transaction() as session:
        assert await lane_store.push(session, "a", now + seconds(30)) == now + seconds(30)
        # A push never pulls a lane forward.
        assert await lane_store.push(session, "a", now + seconds(5)) == now + seconds(30)
        assert await lane_store.push(session, "new", now + seconds(2)) == now + seconds(2)
    async with db.transaction() as session:
        assert await lane_store.next_at(session, "a") == now + seconds(30)
        assert await lane_store.prune(session, now) == 1  # only "b", idle since long ago
        assert await lane_store.next_at(session, "b") is None


# ----- deliveries, paced ----------------------------------------------------------------------


@dataclass
class PacedPort(MemoryPort):
    """A MemoryPort paced like a platform (1 per second per lane), that notes when each send
    started by the test's clock and can answer 429 to chosen sends."""

    clock: ManualClock | None = None
    starts: list[tuple[str, datetime]] = field(default_factory=list)
    limited: dict[str, float] = field(default_factory=dict)  # text -> Retry-After, once
    refused: set[str] = field(default_factory=set)  # texts refused for good

    async def send(self, workspace: WorkspaceRef, target: Target, message: Message) -> Sent | None:
        text = message.text[0].text  # type: ignore[union-attr]
        if text in self.refused:
            raise DeliveryError("is_archived", retryable=False)
        if text in self.limited:
            raise DeliveryError("rate limited", retryable=True, retry_after=self.limited.pop(text))
        assert self.clock is not None
        self.starts.append((lane_for(workspace, target), self.clock.now()))
        return await super().send(workspace, target, message)


def paced_port(clock: ManualClock, burst: int = 1) -> PacedPort:
    return PacedPort(
        capabilities=Capabilities(
            ephemeral=True,
            reactions_on_any_message=True,
            command_prefix="/ally ",
            lane_interval=1.0,
            lane_burst=burst,
        ),
        clock=clock,
    )


async def _workspace_id(db: Database, clock: ManualClock) -> int:
    async with db.transaction() as session:
        return (await ws_store.ensure_workspace(session, WS.platform, WS.id, clock.now())).id


def post(channel: str, text: str, key: str | None = None) -> Outbound:
    return Outbound(
        target=ToConversation(conversation=ConversationRef(WS, channel)),
        message=Message(text=rich(text)),
        key=key,
    )


def dm(user: str, text: str) -> Outbound:
    return Outbound(target=ToUser(user=UserRef(WS, user)), message=Message(text=rich(text)))


async def _queue(
    db: Database, delivery: Delivery, ws_id: int, items: list[tuple[str, Outbound | Edit]]
) -> None:
    async with db.transaction() as session:
        for key, item in items:
            await delivery.send(session, WS, ws_id, key, item)


async def test_lanes_hold_one_per_second_per_channel_across_two_workers(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock)
    ports = {port.platform: port}
    # Two workers with their own schedulers (as two replicas would be), one store.
    workers = [Scheduler(db, clock, platforms=ports), Scheduler(db, clock, platforms=ports)]
    delivery = Delivery(db, clock, workers[0], ports)
    Delivery(db, clock, workers[1], ports)
    items: list[tuple[str, Outbound | Edit]] = []
    for i in range(6):
        items += [(f"c1-{i}", post("C1", f"c1 {i}")), (f"c2-{i}", post("C2", f"c2 {i}"))]
    items += [(f"dm-{i}", dm(f"U{i}", f"dm {i}")) for i in range(6)]
    await _queue(db, delivery, ws_id, items)
    start = clock.now()
    for _ in range(40):
        for worker in workers:
            await worker.run_due(workers=3)
        clock.advance(seconds(0.25))
    assert len(port.posted) == 18
    by_lane: dict[str, list[datetime]] = {}
    for lane, at in port.starts:
        by_lane.setdefault(lane, []).append(at)
    for lane in ("console:acme:C1", "console:acme:C2"):
        times = by_lane[lane]
        assert len(times) == 6
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert all(g >= 1.0 for g in gaps), (lane, gaps)
        assert times[-1] - start <= seconds(5.25)  # ... and not much slower than that
    # DMs are lanes of their own: none waited.
    assert all(by_lane[f"console:acme:@U{i}"] == [start] for i in range(6))


async def test_a_lane_allows_its_burst(db: Database, clock: ManualClock) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock, burst=3)
    scheduler = Scheduler(db, clock)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    await _queue(db, delivery, ws_id, [(f"p{i}", post("C1", f"p{i}")) for i in range(6)])
    assert await scheduler.run_due(workers=4) == 2
    clock.advance(seconds(0.25))  # the burst's last send keeps the jitter reserve
    assert await scheduler.run_due(workers=4) == 1
    for _ in range(3):
        assert await scheduler.run_due(workers=4) == 0
        clock.advance(seconds(1))
        assert await scheduler.run_due(workers=4) == 1


async def test_a_429_holds_the_lane_and_spends_no_attempt(db: Database, clock: ManualClock) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock, burst=3)
    port.limited["first"] = 30
    scheduler = Scheduler(db, clock)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    await _queue(
        db,
        delivery,
        ws_id,
        [("a", post("C1", "first")), ("b", post("C1", "second")), ("c", post("C2", "other"))],
    )
    await scheduler.run_due(workers=4)
    # "first" hit the limit; "second" was claimed beside it (the lane's burst) and went.
    # The push then held the whole lane.
    assert sorted(p.text for p in port.posted) == ["other", "second"]
    async with db.transaction() as session:
        limited = await job_store.get_job(session, ws_id, f"{KIND}:a")
        assert limited is not None and limited.status == "pending" and limited.attempts == 0
        assert limited.due_at <= clock.now()  # it keeps its place; the lane holds it
        assert await lane_store.next_at(session, "console:acme:C1") == clock.now() + seconds(30)
    await _queue(db, delivery, ws_id, [("d", post("C1", "third"))])
    clock.advance(seconds(29))
    assert await scheduler.run_due() == 0  # the lane is held for "third" too
    clock.advance(seconds(1))
    assert await scheduler.run_due(workers=4) == 1  # one per second again after a push
    clock.advance(seconds(1))
    assert await scheduler.run_due(workers=4) == 1
    assert [p.text for p in port.posted][-2:] == ["first", "third"]
    async with db.transaction() as session:
        done = await job_store.get_job(session, ws_id, f"{KIND}:a")
        assert done is not None and done.status == "done" and done.attempts == 1


async def test_an_edit_waits_for_its_original_without_spending_attempts(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock)
    port.limited["original"] = 600  # the original is held back ten minutes
    scheduler = Scheduler(db, clock)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    await _queue(
        db,
        delivery,
        ws_id,
        [
            ("post", post("C1", "original", key="post")),
            ("post:edit:1", Edit(key="post", message=Message(text=rich("edited")))),
        ],
    )
    async with db.transaction() as session:
        edit = await job_store.get_job(session, ws_id, f"{KIND}:post:edit:1")
        assert edit is not None and edit.lane == "console:acme:C1"  # counted where it goes
        assert edit.platform == "console"
    for _ in range(120):  # twenty minutes, in ten-second steps: far more than 8 attempts
        await scheduler.run_due()
        clock.advance(seconds(10))
    assert [p.text for p in port.posted] == ["original"]
    assert len(port.updates) == 1 and port.updates[0][1].text[0].text == "edited"  # type: ignore[union-attr]
    async with db.transaction() as session:
        edit = await job_store.get_job(session, ws_id, f"{KIND}:post:edit:1")
        assert edit is not None and edit.status == "done" and edit.attempts == 1


async def test_an_edit_whose_original_cannot_come_gives_up(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock)
    given_up: list[tuple[str, str]] = []

    async def hook(ctx: JobContext, reason: str) -> None:
        given_up.append((ctx.key, reason))

    scheduler = Scheduler(db, clock, on_give_up=hook)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    # An edit of something never queued waits at most a day...
    await _queue(db, delivery, ws_id, [("e1", Edit(key="gone", message=Message(text=rich("x"))))])
    for _ in range(30):
        await scheduler.run_due()
        clock.advance(timedelta(hours=1))
    assert given_up == [(f"{KIND}:e1", "message 'gone' not sent yet, a day after it was queued")]
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, f"{KIND}:e1")
        assert job is not None and job.status == "failed" and job.attempts == 1
    # ... and one whose original failed for good gives up at once.
    port.refused.add("doomed")
    await _queue(
        db,
        delivery,
        ws_id,
        [
            ("p", post("C9", "doomed", key="p")),
            ("p:edit:1", Edit(key="p", message=Message(text=rich("y")))),
        ],
    )
    await scheduler.run_due()
    clock.advance(seconds(10))
    await scheduler.run_due()
    assert [key for key, _ in given_up[1:]] == [f"{KIND}:p", f"{KIND}:p:edit:1"]
    assert "never sent (failed)" in given_up[-1][1]


async def test_a_message_recorded_as_sent_is_not_sent_again(
    db: Database, clock: ManualClock
) -> None:
    """A run that sent and recorded a keyed message, then died before finishing its job: the
    next run finds the record and does not post twice."""
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock)
    scheduler = Scheduler(db, clock)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    await _queue(db, delivery, ws_id, [("k", post("C1", "once", key="k"))])
    async with db.transaction() as session:  # a worker claims it ...
        (job,) = await job_store.claim(
            session, clock.now(), limit=1, lease=timedelta(minutes=1), kinds={KIND}
        )
    ctx = JobContext(
        job.id, job.key, job.kind, 1, job.due_at, job.created_at, ws_id, job.payload, "x"
    )
    await delivery.run(ctx)  # ... sends and records it, then dies before finishing
    clock.advance(timedelta(minutes=2))
    await scheduler.run_due()
    assert [p.text for p in port.posted] == ["once"]
    async with db.transaction() as session:
        again = await job_store.get_job(session, ws_id, f"{KIND}:k")
        assert again is not None and again.status == "done"


async def test_a_job_for_a_missing_port_waits_without_spending_attempts(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace_id(db, clock)
    ports: dict[str, PacedPort] = {}
    scheduler = Scheduler(db, clock)  # runs every platform's jobs: it claims this one
    delivery = Delivery(db, clock, scheduler, ports)
    await _queue(db, delivery, ws_id, [("k", dm("U1", "hello"))])
    for _ in range(20):
        await scheduler.run_due()
        clock.advance(timedelta(minutes=1))
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, f"{KIND}:k")
        assert job is not None and job.status == "pending" and job.attempts == 0
    port = paced_port(clock)
    ports[port.platform] = port
    await scheduler.run_due()
    assert [p.text for p in port.posted] == ["hello"]


@pytest.mark.parametrize("burst", [1, 2])
def test_lane_pacing_looks_the_pace_up_per_platform(burst: int) -> None:
    pacing = LanePacing(lambda platform: Pace(1.0, burst) if platform == "slack" else None)
    assert pacing.paced("slack:T1:C1") and not pacing.paced("console:acme:C1")
    assert pacing.admit("console:acme:C1", T0, T0) == T0
    assert pacing.admit("console:acme:C1", T0 + seconds(1), T0) is None


def workspace_paced_port(clock: ManualClock) -> PacedPort:
    """One send per 0.25 s in the whole workspace (like Teams' limit per tenant); lanes free."""
    return PacedPort(
        capabilities=Capabilities(
            ephemeral=True,
            reactions_on_any_message=True,
            command_prefix="/ally ",
            workspace_interval=0.25,
        ),
        clock=clock,
    )


async def test_the_workspace_lane_paces_every_lane_together(
    db: Database, clock: ManualClock
) -> None:
    ws_id = await _workspace_id(db, clock)
    port = workspace_paced_port(clock)
    ports = {port.platform: port}
    workers = [Scheduler(db, clock, platforms=ports), Scheduler(db, clock, platforms=ports)]
    delivery = Delivery(db, clock, workers[0], ports)
    Delivery(db, clock, workers[1], ports)
    await _queue(db, delivery, ws_id, [(f"dm-{i}", dm(f"U{i}", f"dm {i}")) for i in range(8)])
    async with db.transaction() as session:
        job = await job_store.get_job(session, ws_id, f"{KIND}:dm-0")
        assert job is not None and job.lane_group == "console:acme:*"
    start = clock.now()
    for _ in range(40):
        for worker in workers:
            await worker.run_due(workers=4)
        clock.advance(seconds(0.05))
    times = sorted(at for _, at in port.starts)
    assert len(times) == 8
    assert all((b - a) >= seconds(0.25) for a, b in itertools.pairwise(times))
    assert times[-1] - start <= seconds(1.8)


async def test_a_429_holds_the_workspace_lane_too(db: Database, clock: ManualClock) -> None:
    ws_id = await _workspace_id(db, clock)
    port = paced_port(clock)
    port.limited["dm 0"] = 20
    scheduler = Scheduler(db, clock)
    delivery = Delivery(db, clock, scheduler, {port.platform: port})
    await _queue(db, delivery, ws_id, [("d0", dm("U0", "dm 0"))])
    assert await scheduler.run_due() == 1
    # A DM to someone else (another lane) waits too: the 429 may have been the workspace's.
    await _queue(db, delivery, ws_id, [("d1", dm("U1", "dm 1"))])
    assert await scheduler.run_due() == 0
    async with db.transaction() as session:
        assert await lane_store.next_at(session, "console:acme:*") == clock.now() + seconds(20)
    clock.advance(seconds(20))
    assert await scheduler.run_due(workers=2) == 2
    assert sorted(p.text for p in port.posted) == ["dm 0", "dm 1"]


def test_the_teams_tenant_pace_stays_under_50_per_second() -> None:
    from adapters.teams.port import TeamsPort

    port = TeamsPort(None, app_id="a", directory=None, addresses=None)  # type: ignore[arg-type]
    pace = workspace_pace_of(port.capabilities)
    conversation = pace_of(port.capabilities)
    assert pace is not None and conversation is not None
    now, next_at, starts = T0, lane_store.IDLE, []
    while now - T0 < seconds(10):
        moved = pace.admit(next_at, now)
        if moved is not None:
            next_at = moved
            starts.append((now - T0).total_seconds())
            continue
        now += seconds(0.001)
    assert _max_in_window(starts, 1) <= 45
    assert (conversation.interval, conversation.burst) == (0.55, 4)
