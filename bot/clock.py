"""Injectable time: production uses the system clock, tests move a manual one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


class ShiftedClock:
    """The system clock moved by an offset people can change: the console's `:clock +45m`
    lets someone watch an escalation or a quiet-hours wait happen without waiting."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self.offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward here")
        self.offset += delta

    def set(self, when: datetime) -> None:
        """Jumps to `when` (aware), forward or back: a demo script starts on a fixed Monday."""
        if when.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self.offset += when.astimezone(UTC) - self.now()
