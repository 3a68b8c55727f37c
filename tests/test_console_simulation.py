"""The console's simulation controls: the clock, thread replies, Do Not Disturb and status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console.app import run_console
from adapters.console.sim_controls import parse_moment, parse_step
from bot.clock import Clock, ManualClock, ShiftedClock
from bot.settings import Settings


async def transcript(sqlite_url: str, script: str, tmp_path: Path, clock: Clock) -> str:
    path = tmp_path / "script.txt"
    path.write_text(script)
    lines: list[str] = []
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    assert await run_console(settings, script=path, clock=clock, out=lines.append) == 0
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+45m", timedelta(minutes=45)),
        ("+2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("+1h30m", timedelta(hours=1, minutes=30)),
        ("+0m", None),
        ("+45", None),
        ("+45 m", None),
        ("-1h", None),
        ("+²h", None),
        ("+\u0661h", None),  # ARABIC-INDIC DIGIT ONE
        ("", None),
    ],
)
def test_parse_step(text: str, expected: timedelta | None) -> None:
    assert parse_step(text) == expected


def test_parse_moment() -> None:
    assert parse_moment(["2026-12-07", "09:00", "Europe/Paris"]) == datetime(
        2026, 12, 7, 8, 0, tzinfo=UTC
    )
    assert parse_moment(["2026-12-07", "09:00"]) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert parse_moment(["2026-12-07", "25:00"]) is None
    assert parse_moment(["2026-12-07", "09:00", "Mars/Olympus"]) is None
    assert parse_moment(["tomorrow"]) is None


def test_shifted_clock_moves_forward_and_jumps() -> None:
    base = ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    clock = ShiftedClock(base)
    clock.advance(timedelta(minutes=45))
    assert clock.now() == datetime(2026, 12, 1, 12, 45, tzinfo=UTC)
    base.advance(timedelta(minutes=1))  # the real time keeps flowing under the offset
    assert clock.now() == datetime(2026, 12, 1, 12, 46, tzinfo=UTC)
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert clock.now() == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.advance(timedelta(minutes=-1))


async def test_clock_controls(sqlite_url: str, tmp_path: Path) -> None:
    clock = ShiftedClock(ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)))
    out = await transcript(
        sqlite_url,
        "\n".join(
            [
                ":clock",
                ":clock +45m",
                ":clock at 2026-12-07 09:00 Europe/Paris",
                ":as bo",
                ":clock",
                ":clock soon",
                ":clock at monday",
            ]
        ),
        tmp_path,
        clock,
    )
    assert "It is Tue 01 Dec 12:00 UTC (Tue 13:00 for Ana Lopez, Europe/Paris)." in out
    assert "It is Tue 01 Dec 12:45 UTC" in out
    assert "It is Mon 07 Dec 08:00 UTC (Mon 09:00 for Ana Lopez" in out
    assert "It is Mon 07 Dec 08:00 UTC (Mon 03:00 for Bo Chen, America/New_York)." in out
    assert "'soon' is not a step of time: use +45m, +2h, +1d or +1h30m." in out
    assert "Usage: :clock at YYYY-MM-DD HH:MM [ZONE]" in out
    assert clock.now() == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


async def test_reply_dnd_and_status_controls(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    out = await transcript(
        sqlite_url,
        "\n".join(
            [
                ":in #help",
                "How do I reset my VPN token?",
                ":as bo",
                ":reply 1 Try the self-service portal",
                ":reply 99 hello",
                ":reply 1",
                ":dnd cy on",
                ":dnd cy maybe",
                ':status dee "Out of office"',
                ":status dee off",
                ":dnd nobody on",
            ]
        ),
        tmp_path,
        clock,
    )
    assert "[#help, thread of #1] #2 bo: Try the self-service portal" in out
    assert "There's no message #99" in out
    assert "Usage: :reply N TEXT" in out
    assert "Cy Sato is now in Do Not Disturb." in out
    assert "Usage: :dnd NAME on|off" in out
    assert "Dee Okafor's status: “Out of office”." in out
    assert "Dee Okafor's status: cleared." in out
    assert "Usage: :dnd NAME on|off (:people lists the names)" in out
