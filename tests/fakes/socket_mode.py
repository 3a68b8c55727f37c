"""A fake Slack Socket Mode server: an aiohttp WebSocket endpoint on 127.0.0.1.

Attach it to a :class:`~tests.fakes.slack_api.FakeSlackApi` (``fake.attach(api)``): the fake Web
API then answers ``apps.connections.open`` (called with the app-level token) with this server's
``ws://`` URL, as Slack answers with its ``wss://`` one. slack_sdk's Socket Mode client connects
there; the server greets every connection with ``hello`` and the test pushes envelopes. Each
message the bot sends back (the acknowledgements, ``{"envelope_id": ..., "payload": ...}``) is
recorded as a :class:`SocketMessage`.

Wire facts (https://api.slack.com/apis/socket-mode, slack_sdk 3.47): an envelope is
``{"envelope_id", "type", "payload", "accepts_response_payload"}``; ``events_api`` envelopes also
carry ``retry_attempt`` and ``retry_reason`` (0 and "" first, then the attempt and why, e.g.
``"timeout"``), in the envelope, not in headers; a redelivery has a new ``envelope_id`` and the
same payload (same ``event_id``). ``{"type": "disconnect", "reason": "refresh_requested"}``
makes the client open a new connection (a new ``apps.connections.open``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import FakeServer
from tests.fakes.slack_api import FakeSlackApi

__all__ = ["FakeSocketMode", "SocketMessage"]

JsonDict = dict[str, Any]


@dataclass
class SocketMessage:
    """One text frame the bot sent, and the connection (1, 2, ...) it came on."""

    data: JsonDict
    connection: int

    @property
    def envelope_id(self) -> str | None:
        value = self.data.get("envelope_id")
        return str(value) if value is not None else None

    @property
    def payload(self) -> JsonDict | None:
        payload = self.data.get("payload")
        return payload if isinstance(payload, dict) else None


class FakeSocketMode(FakeServer[SocketMessage]):
    """``async with FakeSocketMode() as socket: socket.attach(api) ...``."""

    def __init__(self, *, app_id: str = "A0001", host: str = "127.0.0.1") -> None:
        super().__init__(host=host)
        self.app_id = app_id
        self.connections: list[web.WebSocketResponse] = []
        self._tickets = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._connected = asyncio.Condition()
        self.app.router.add_get("/link/", self._socket)

    # ------------------------------------------------------------------ addresses

    def new_url(self) -> str:
        """A connection URL with a fresh ticket, as each apps.connections.open returns."""
        return (
            f"ws://{self.host}:{self.port}/link/?ticket=t{next(self._tickets)}&app_id={self.app_id}"
        )

    def attach(self, api: FakeSlackApi) -> None:
        """Makes `api` answer apps.connections.open with this server's URLs."""
        api.socket_mode_url = self.new_url

    # ------------------------------------------------------------------ the socket

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        number = len(self.connections)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        async with self._connected:
            self._connected.notify_all()
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                try:
                    data = json.loads(frame.data)
                except ValueError:
                    data = {"_raw": frame.data}
                self._record(
                    SocketMessage(data if isinstance(data, dict) else {"_json": data}, number)
                )
            elif frame.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
        return ws

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Until `count` connections were opened (the client may have closed older ones)."""
        async with asyncio.timeout(timeout), self._connected:
            await self._connected.wait_for(lambda: len(self.connections) >= count)

    @property
    def current(self) -> web.WebSocketResponse:
        open_ = [ws for ws in self.connections if not ws.closed]
        if not open_:
            raise AssertionError("no open Socket Mode connection")
        return open_[-1]

    async def send(self, message: JsonDict) -> None:
        """Pushes a frame to the newest open connection."""
        await self.current.send_json(message)

    async def envelope(
        self,
        type_: str,
        payload: JsonDict,
        *,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Pushes one envelope; returns its envelope_id. `events_api` envelopes get Slack's
        retry fields (0 and "" unless given); slash commands and interactivity accept a
        response payload, as Slack sets them."""
        envelope_id = envelope_id or f"env-{next(self._envelopes)}"
        message: JsonDict = {"envelope_id": envelope_id, "type": type_, "payload": payload}
        if type_ == "events_api":
            message["retry_attempt"] = 0 if retry_attempt is None else retry_attempt
            message["retry_reason"] = "" if retry_reason is None else retry_reason
            message["accepts_response_payload"] = bool(accepts_response_payload)
        else:
            message["accepts_response_payload"] = (
                True if accepts_response_payload is None else accepts_response_payload
            )
        await self.send(message)
        return envelope_id

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's "connect again": the client opens a new connection, then closes this one."""
        await self.send(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    # ------------------------------------------------------------------ acknowledgements

    def acks(self, envelope_id: str) -> list[SocketMessage]:
        return [m for m in self.calls if m.envelope_id == envelope_id]

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketMessage:  # noqa: ASYNC109
        """The bot's acknowledgement of `envelope_id`; AssertionError listing every frame the
        bot sent when it does not come in time."""
        (first, *_) = await self._wait_until(
            lambda m: m.envelope_id == envelope_id, 1, timeout, f"the ack of {envelope_id}"
        )
        return first

    async def stop(self) -> None:
        for ws in self.connections:
            if not ws.closed:
                await ws.close()
        await super().stop()

    def _describe_call(self, call: SocketMessage) -> str:
        return f"[connection {call.connection}] {json.dumps(call.data)[:300]}"
