"""The inbox's workers and the jobs worker, run until told to stop: by `allybot worker`
(adapters/runtime.py) and, with `serve --worker inline`, beside the HTTP server
(adapters/server.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.core import Allybot

log = logging.getLogger(__name__)

__all__ = ["run_workers"]


async def run_workers(
    core: Allybot,
    stop: asyncio.Event,
    *,
    inbox: bool = True,
    jobs: bool = True,
    grace: float = 10.0,
) -> None:
    """The inbox's workers (events acknowledged at the door) and the jobs worker (deliveries,
    reminders), until `stop` is set: what `allybot worker` runs, beside or apart from the door.
    Then the event batch or jobs running are given `grace` seconds to finish; what is still
    running then is cancelled and released (claimable at once, see bot/scheduler.py)."""
    tasks = []
    if jobs:
        tasks.append(asyncio.create_task(core.scheduler.run_forever(stop), name="jobs-worker"))
    if inbox and core.inbox is not None:
        tasks.append(asyncio.create_task(core.inbox.run_forever(stop), name="inbox-workers"))
    stopping = asyncio.create_task(stop.wait(), name="stop")
    died: BaseException | None = None
    try:
        # A loop that raised would leave this process idle, alive to its door: it exits instead,
        # non-zero, so that the door starts it again.
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopping and not task.cancelled() and task.exception() is not None:
                died = task.exception()
                log.error("the %s loop died; stopping", task.get_name(), exc_info=died)
    finally:
        stop.set()
        stopping.cancel()
        core.scheduler.wake()
        if core.inbox is not None:
            core.inbox.wake()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            ended = asyncio.gather(*tasks, return_exceptions=True)
            results = await asyncio.wait_for(ended, timeout=grace)
            for task, result in zip(tasks, results, strict=True):
                if isinstance(result, Exception) and result is not died:
                    log.error("the %s loop failed as it stopped", task.get_name(), exc_info=result)
    if died is not None:
        raise RuntimeError("a worker loop died") from died
