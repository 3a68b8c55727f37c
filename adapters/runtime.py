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

from adapters.credentials import CREDENTIALS, check_credentials
from adapters.server import build_app
from adapters.workers import run_workers
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

    async def close_socket_mode(self) -> None:
        """Closes the Socket Mode connection, if any (a stop's first step: nothing new comes in;
        an envelope not acknowledged yet is sent again by Slack, and is a no-op if committed)."""
        handler, self.socket_mode = self.socket_mode, None
        if handler is not None:
            await handler.close_async()

    async def close(self) -> None:
        await self.close_socket_mode()
        for close in reversed(self.closers):
            await close()
        await self.db.dispose()


async def build_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Clock | None = None,
    run_worker: bool = True,
    login_http: Any = None,
    check_platforms: bool = True,
) -> Runtime:
    """`login_http`: a requests.Session for the Teams token check (adapters/credentials.py).
    `check_platforms`: off for `allybot worker`, which serves no /readyz."""
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
            socket_mode = slack.socket_mode_handler()  # closed by Runtime.close_socket_mode
        else:
            slack_route = slack.handle
    if settings.teams_configured:
        from adapters.teams import TeamsAdapter

        teams = TeamsAdapter(core, settings)
        core.add_port(teams.port)
        teams_route = teams.handle
    app = build_app(core, slack=slack_route, teams=teams_route, run_worker=run_worker)
    # Each platform asked once whether it takes the bot's credentials, for /readyz.
    if check_platforms:
        app[CREDENTIALS] = await check_credentials(core, login_http=login_http)
    return Runtime(core=core, app=app, socket_mode=socket_mode, closers=closers)


# ----- the door and its worker processes ------------------------------------------------------

WORKER_NICE = 10  # the door answers platforms that are waiting; the workers catch up
RESPAWN_DELAY = 1.0
# Beyond SHUTDOWN_GRACE, what a stopping worker may take to release what it cut short and to
# close; the door kills it after that.
WORKER_STOP_MARGIN = 10.0
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

    def hold(self) -> None:
        """Not started again from now on, should it exit (the door is stopping)."""
        self._stopping = True

    async def stop(self, grace: float = 15) -> None:
        """SIGTERM (and the end of its stdin): it finishes or releases what it runs, then exits;
        killed after `grace` seconds."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), timeout=grace)
            except TimeoutError:
                log.error("worker process %d did not stop within %.0fs; killed", proc.pid, grace)
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


def share_door_flag(runtime: Runtime, *, yields: bool) -> None:
    """The door and the workers it started share one flag file in DATA_DIR (PostgreSQL; on
    SQLite the flag lies beside the database file already): see `Database.share_door`."""
    data_dir = runtime.core.services.settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        log.warning("no door flag in %s: the door's writes get no priority", data_dir)
        return
    runtime.db.share_door(str(data_dir / "door-busy"), yields=yields)


async def serve_worker(
    runtime: Runtime, *, from_door: bool, inbox: bool = True, jobs: bool = True
) -> None:
    """Runs `allybot worker` in this process until it is told to stop: SIGINT/SIGTERM, or, when
    a door started it, the end of its stdin (each byte read before that is a wake-up). Then
    what runs gets SHUTDOWN_GRACE seconds to finish, and what is left is released."""
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
        share_door_flag(runtime, yields=True)
        # Beside the door, on the same cores: acknowledging within Slack's 3 s matters more
        # than applying a moment sooner. On SQLite a worker holding the one write lock while
        # descheduled would hold up the door (priority inversion); that is bounded, since a
        # worker starts no transaction while the door is writing (store/session.py
        # `_DoorFlag`) and its transactions last milliseconds. Measured: the door's ack p99
        # at 200 events/s stays ~40 ms, and it acknowledges twice as fast under load.
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
        grace = core.services.settings.shutdown_grace
        await run_workers(core, stop, inbox=inbox, jobs=jobs, grace=grace)
    finally:
        if poller is not None:
            poller.cancel()
