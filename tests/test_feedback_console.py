"""Feedback in the console, run as a user would: commands, the form, buttons, export."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.clock import ManualClock
from bot.settings import Settings
from tests.test_console import transcript

SCRIPT = """\
/ally role add @cy curator
/ally config feedback-channel help
:as bo
/feedback the wiki search never finds anything
/ally feedback
The VPN guide is outdated
:feedback 2
:submit text= anonymous=yes
:submit category=docs anonymous=yes "note=please fix"
:as cy
:press 1 acknowledge
/ally feedback status FB-2 declined
/ally feedback status FB-2 declined "we are rewriting it anyway"
/ally feedback export
:inbox bo
"""


async def test_feedback_workflow_in_the_console(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, _env_file=None)  # type: ignore[call-arg]
    out = await transcript(settings, SCRIPT, tmp_path, clock)
    assert "Your feedback is filed as FB-1" in out
    assert "[#help] #1 Allybot: ┌ FB-1: new feedback" in out
    assert "Your feedback is empty" in out
    assert "[form] Send as feedback" in out and "now “The VPN guide is outdated”" in out
    assert "[form] text: Your feedback is empty" in out  # the form stays open
    assert "filed as FB-2. The community team will see it without your name" in out
    assert "From: anonymous" in out
    assert "FB-1 is now acknowledged. I told its submitter." in out
    assert "Declining FB-2 needs a reason" in out
    assert "it is now declined" in out and "we are rewriting it anyway" in out
    (path,) = (tmp_path / "exports").glob("feedback-*.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["FB-1", "FB-2"]
    assert rows[1]["submitter"] == "anonymous" and rows[1]["status"] == "declined"
    assert f"[file] {path.resolve()}" in out
