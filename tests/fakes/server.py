"""What the loopback fakes share: an aiohttp server on a free 127.0.0.1 port, and recorded calls.

A subclass adds its routes to ``self.app`` in ``__init__``, records each request with
``self._record(call)``, and describes a call for failure messages in ``_describe_call``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from aiohttp import web

__all__ = ["FakeServer"]

CallT = TypeVar("CallT")


class FakeServer(Generic[CallT]):
    """``async with Fake() as fake: ...`` starts the server on a free port and stops it after."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.calls: list[CallT] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._new_call: asyncio.Event | None = None
        self.app = web.Application()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._new_call = asyncio.Event()
        runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        return f"http://{self.host}:{self.port}/"

    # ------------------------------------------------------------------ recorded calls

    def _record(self, call: CallT) -> None:
        self.calls.append(call)
        if self._new_call is not None:
            self._new_call.set()

    async def _wait_until(
        self,
        matches: Callable[[CallT], bool],
        count: int,
        timeout: float,  # noqa: ASYNC109
        waiting_for: str,
    ) -> list[CallT]:
        """All recorded calls that match, once there are at least ``count`` of them; on timeout
        an AssertionError that says what was awaited and lists every recorded call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self.calls if matches(c)]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {waiting_for}; got {len(found)}.\n"
                    f"Recorded calls ({len(self.calls)}):\n{self.describe_calls()}"
                )
            event = self._new_call
            if event is None:
                await asyncio.sleep(min(remaining, 0.01))
                continue
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def describe_calls(self) -> str:
        if not self.calls:
            return "  (none)"
        return "\n".join(f"  {i}. {self._describe_call(c)}" for i, c in enumerate(self.calls, 1))

    def _describe_call(self, call: CallT) -> str:
        return repr(call)
