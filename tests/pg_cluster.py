"""A throwaway PostgreSQL cluster that a test can stop and start (the outage tests).

The shared server at 127.0.0.1:5432 is never touched: this one lives in a temporary directory
(its data, its log and its unix socket), listens on a free loopback port with trust auth, and is
removed at teardown. PostgreSQL refuses to run as root, so when the tests run as root (as they
do in CI here) the server's commands run as the `postgres` account through `runuser`, in a
directory that account owns.

A cluster that can't be made fails the test loudly (`ClusterError` with the server's own
words): the outage tests are meant to run wherever the PostgreSQL tests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

SERVICE_ACCOUNT = "postgres"
# Small and quick, and enough connections for `allybot serve` (a door and two worker processes,
# each with a pool of up to 35) and the test. fsync off: the cluster is thrown away and only its
# processes crash, never the machine, so what was written survives. synchronous_commit stays on:
# off, a commit returns before its WAL is written, and `stop -m immediate` loses it (an
# acknowledged event the outage test would rightly call lost).
CONFIG = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
max_connections = 250
shared_buffers = 32MB
fsync = off
full_page_writes = off
log_min_messages = warning
"""


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output and the server's log."""


def find_bin() -> Path:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    found = [d for d in found if (d / "initdb").exists()]
    if not found:
        raise ClusterError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    return max(found, key=lambda d: _version(d.parent.name))


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """One cluster: `init()` once, then `start()` / `stop()` as often as the test wants."""

    bin: Path = field(default_factory=find_bin)
    port: int = field(default_factory=free_port)
    root: Path = field(init=False)
    running: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        # Not under pytest's tmp_path: that is private to root, and the server may run as
        # `postgres`, which must reach its directory.
        self.root = Path(tempfile.mkdtemp(prefix="allybot-pg-"))
        self._user = SERVICE_ACCOUNT if os.geteuid() == 0 else None
        if self._user is not None:
            try:
                account = pwd.getpwnam(self._user)
            except KeyError:
                raise ClusterError(
                    "running as root, and there is no `postgres` account to run the server as"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    # ----- addresses --------------------------------------------------------------------

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL (asyncpg), as DATABASE_URL takes it."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    # ----- lifecycle --------------------------------------------------------------------

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        conf = CONFIG.format(port=self.port, sockets=self.root)
        self._run("sh", "-c", f"cat >> '{self.data}/postgresql.conf'", stdin=conf, tool=False)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (clients see "terminating connection due to
        administrator command"); `immediate` is a crash (no shutdown checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.running = False

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)  # the loop (and the app under test) goes on

    async def astop(self, mode: str = "fast") -> None:
        await asyncio.to_thread(self.stop, mode)

    def teardown(self) -> None:
        if self.running:
            with contextlib.suppress(ClusterError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # ----- databases --------------------------------------------------------------------

    async def create_database(self, template: str | None = None) -> str:
        """A new, empty database (a copy of `template` if given); returns its name."""
        name = f"allybot_outage_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            suffix = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    # ----- running the server's tools -----------------------------------------------------

    def _run(self, program: str, *args: str, stdin: str | None = None, tool: bool = True) -> None:
        command = [str(self.bin / program) if tool else program, *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        try:
            result = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=60,
                cwd=self.root,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:  # e.g. no runuser, a hung server
            raise ClusterError(f"{' '.join(command)}: {exc}") from exc
        if result.returncode != 0:
            server_log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{server_log}"
            )
