"""Typed numbers in the console (issue 12): Unicode digits and huge numbers get a specific
message, and the console never exits with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.clock import ManualClock
from bot.settings import Settings
from tests.hostile import leaks
from tests.test_console import transcript

HOSTILE_LINES = [
    "/ally config allowance \u00b2",
    "/ally config allowance \u0661\u0662",
    "/ally config allowance 99999999999999999999999999999999999999",
    "/ally config allowance " + "9" * 5000,  # int() refuses past 4,300 digits
    "/ally badge rule appreciated kudos_given \u2460",
    "/ally badge rule appreciated kudos_given \u00b2",
    "/ally config feedback-aging \u00b3",
    "/ally feedback vote FB-\u00b2",
    ":react \u00b2 clap",
    ":react \u2460 clap",
    ":react 99999999999999999999999999 clap",
    ":press \u00b2 acknowledge",
    ":press 99999999999999999999999999 acknowledge",
    "/kudos @bo thanks",  # still alive and answering afterwards
]


async def test_unicode_digits_get_specific_messages_in_the_console(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    out = await transcript(settings, "\n".join(HOSTILE_LINES), tmp_path, clock)
    assert not leaks(out), out
    assert "The daily allowance must be a whole number from 1 to 1000, not “²”." in out
    assert "N must be a whole number from 1 to 1000000, not “①”." in out
    assert "must be a whole number from 1 to 30, not “³”." in out
    assert "'²' is not a message number" in out
    assert "'99999999999999999999999999' is not a message number" in out
    assert "N must be a whole number from 1 to" in out  # :press
    assert "Kudos sent to @Bo Chen" in out


def test_console_process_exits_cleanly_on_hostile_numbers(tmp_path: Path) -> None:
    script = tmp_path / "hostile.txt"
    script.write_text("\n".join(HOSTILE_LINES), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env.pop("DATABASE_URL", None)
    env.update(DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "console", "--script", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "Kudos sent to @Bo Chen" in done.stdout
