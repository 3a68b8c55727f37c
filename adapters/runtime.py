"""Builds the running system from settings; shared by `allybot serve` and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.server import build_app
from bot.bootstrap import Database, bootstrap, open_database
from bot.clock import Clock
from bot.core import Allybot
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    core: Allybot
    app: web.Application
    socket_mode: Any = None  # slack_bolt AsyncSocketModeHandler when SLACK_APP_TOKEN is set
    closers: list[Any] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.core.services.db

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()
        await self.db.dispose()


async def build_runtime(
    settings: Settings, *, migrate: bool = True, clock: Clock | None = None, run_worker: bool = True
) -> Runtime:
    db = await open_database(settings, migrate=migrate)
    core = bootstrap(settings, db, {}, clock)
    closers: list[Any] = []
    slack_route = teams_route = None
    socket_mode = None
    if settings.slack_configured:
        from adapters.slack import SlackAdapter

        slack = SlackAdapter(core, settings)
        core.add_port(slack.port)
        closers.append(slack.close)
        if settings.slack_app_token:
            socket_mode = slack.socket_mode_handler()
            closers.append(socket_mode.close_async)
        else:
            slack_route = slack.handle
    if settings.teams_configured:
        from adapters.teams import TeamsAdapter

        teams = TeamsAdapter(core, settings)
        core.add_port(teams.port)
        teams_route = teams.handle
    app = build_app(core, slack=slack_route, teams=teams_route, run_worker=run_worker)
    return Runtime(core=core, app=app, socket_mode=socket_mode, closers=closers)


async def run_workers(
    core: Allybot, stop: asyncio.Event, *, inbox: bool = True, jobs: bool = True
) -> None:
    """The inbox's workers (events acknowledged at the door) and the jobs worker (deliveries,
    reminders), until `stop` is set: what `allybot worker` runs, beside or apart from the door."""
    tasks = []
    if jobs:
        tasks.append(asyncio.create_task(core.scheduler.run_forever(stop), name="jobs-worker"))
    if inbox and core.inbox is not None:
        tasks.append(asyncio.create_task(core.inbox.run_forever(stop), name="inbox-workers"))
    try:
        await stop.wait()
    finally:
        stop.set()
        core.scheduler.wake()
        if core.inbox is not None:
            core.inbox.wake()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)


# ----- the door and its worker processes ------------------------------------------------------

WORKER_NICE = 5  # the door answers platforms that are waiting; the workers catch up (PostgreSQL)
RESPAWN_DELAY = 1.0
EXTERNAL_POLL = 0.25  # a worker no door can poke looks for work this often


class WorkerProcess:
    """`allybot worker` as a child of `allybot serve`, so that the door's event loop only
    verifies, writes the inbox row and acknowledges, on a core of its own.

    The door pokes the worker through its stdin after each commit (an event accepted, a job
    queued), so nothing waits for a poll; the worker exits when its stdin closes, which is also
    how it learns that the door died (even by kill -9). A worker pokes back through its stdout
    when it queued jobs (`on_poke`: the door passes it on to the jobs worker). A worker that
    dies is started again.
    """

    def __init__(self, args: list[str], on_poke: Callable[[], None] | None = None) -> None:
        self._args = args
        self._on_poke = on_poke
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._poked = False

    async def start(self) -> None:
        await self._spawn()
        self._task = asyncio.create_task(self._supervise(), name="worker-process")

    async def _spawn(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.cli",
            "worker",
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE if self._on_poke is not None else None,
        )
        log.info("worker process %d started (%s)", self._proc.pid, " ".join(self._args))

    async def _supervise(self) -> None:
        while not self._stopping:
            proc = self._proc
            assert proc is not None
            if proc.stdout is not None and self._on_poke is not None:
                while await proc.stdout.read(4096):
                    self._on_poke()
            code = await proc.wait()
            if self._stopping:
                return
            log.error("worker process exited with %s; starting another", code)
            await asyncio.sleep(RESPAWN_DELAY)
            if not self._stopping:
                await self._spawn()

    def poke(self) -> None:
        """Wakes the worker (coalesced: one byte per turn of the event loop at most)."""
        if self._poked:
            return
        self._poked = True
        asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._poked = False
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            return
        transport = proc.stdin.transport
        if transport.is_closing() or transport.get_write_buffer_size() > 0:
            return  # a byte it has not read yet wakes it anyway
        with contextlib.suppress(ConnectionError, RuntimeError):
            proc.stdin.write(b".")

    async def stop(self, grace: float = 15) -> None:
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input: it finishes what it runs, then exits
            try:
                await asyncio.wait_for(proc.wait(), timeout=grace)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _Poker:
    """Writes one byte to a pipe to wake the process at its other end (coalesced)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._poked = False
        os.set_blocking(fd, False)

    def __call__(self) -> None:
        if not self._poked:
            self._poked = True
            asyncio.get_running_loop().call_soon(self._send)

    def _send(self) -> None:
        self._poked = False
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            os.write(self._fd, b".")


async def serve_worker(
    runtime: Runtime, *, from_door: bool, inbox: bool = True, jobs: bool = True
) -> None:
    """Runs `allybot worker` in this process until it is told to stop: SIGINT/SIGTERM, or, when
    a door started it, the end of its stdin (each byte read before that is a wake-up)."""
    core = runtime.core
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def wake() -> None:
        core.scheduler.wake()
        if core.inbox is not None:
            core.inbox.wake()

    poller: asyncio.Task[None] | None = None
    if from_door:
        if not runtime.db.is_sqlite:
            # Not on SQLite: a worker put behind others while it holds the one write lock
            # would keep the door waiting for it (priority inversion).
            with contextlib.suppress(OSError):
                os.nice(WORKER_NICE)
        if not jobs:  # jobs this process queues are run by another: the door passes it on
            core.scheduler.notify = _Poker(sys.stdout.fileno())
        fd = sys.stdin.fileno()
        os.set_blocking(fd, False)

        def readable() -> None:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
                stop.set()  # the door is gone (or stopping)
                return
            wake()

        loop.add_reader(fd, readable)
    else:
        # A door in another process can't poke this worker: look for work often instead.
        async def poll() -> None:
            while not stop.is_set():
                await asyncio.sleep(EXTERNAL_POLL)
                wake()

        poller = asyncio.create_task(poll(), name="worker-poll")
    try:
        await run_workers(core, stop, inbox=inbox, jobs=jobs)
    finally:
        if poller is not None:
            poller.cancel()
