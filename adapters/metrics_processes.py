"""One /metrics for `allybot serve` and its worker processes (adapters/runtime.py).

Deliveries, retries and inbox events are counted in the workers, but only the door serves
/metrics. prometheus_client's multiprocess mode joins them: every process writes its values to
files in PROMETHEUS_MULTIPROC_DIR, and the door's scrape adds them up (bot/metrics.py). The
variable must be set before prometheus_client is first imported, so `allybot serve` calls
`share_with_workers` while it starts, and the workers it spawns inherit it.

The directory is the operator's PROMETHEUS_MULTIPROC_DIR when set (emptied of the last run's
files, as prometheus_client requires), else a new temporary one removed when serve exits; one
left by a serve that was killed (its name carries the pid) is removed by the next serve.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "allybot-metrics-"


def share_with_workers() -> Path:
    if "prometheus_client" in sys.modules:
        log.warning("prometheus_client was imported early: worker processes' counters won't show")
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # a previous run's processes
            stale.unlink(missing_ok=True)
        return path
    _remove_orphans(Path(tempfile.gettempdir()))
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    os.environ[ENV] = str(path)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _remove_orphans(where: Path) -> None:
    """The directories of serve processes that are gone (killed: no exit handler ran)."""
    for found in where.glob(f"{PREFIX}*-*"):
        pid = found.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(found, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
