"""examples/nudges.txt, run as a user would in the console: opt-in, a campaign with share
links, bad input, a snooze, a request held for approval, Stop these and the reports."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.clock import ManualClock
from bot.settings import Settings
from store.nudges import SHARED
from tests.test_console import transcript

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "nudges.txt"


async def test_the_nudges_example_script(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, _env_file=None)
    out = await transcript(settings, SCRIPT.read_text(), tmp_path, clock)
    assert "you can lower yours, not raise it above that" in out
    assert "isn't a web link (“ftp:”)" in out
    assert "“knitting” is neither an ambassador interest" in out
    assert "Added C-1: “Our launch”" in out
    # Paris 09:00 is 08:00 UTC: 09:00 for Dee in Lagos (she gets it now), 03:00 in New York.
    assert "[DM to dee] #3 Allybot: ┌ Something to share: Our launch" in out
    assert "share-offsite/?url=https%3A%2F%2Fexample.com%2Flaunch" in out
    assert "[Shared it]  [Not for me]  [Snooze a day]  [Snooze a week]  [Stop these]" in out
    assert "content to share: Mon 07 Dec 09:00 (America/New_York) (waiting: quiet hours)" in out
    assert "Snoozed until Mon 14 Dec 09:00 (Africa/Lagos)" in out
    assert "⚠️ Ambassadors share what they believe in; this is not an ad channel." in out
    assert "Approved A-1: queued for 2 ambassador(s)" in out
    assert "[DM to bo] #7 Allybot: ┌ A request from Ana Lopez" in out
    assert "No more requests nudges" in out
    assert "requests: sent 1, queued 0, deferred 1, suppressed 0 (deferred: paused 1)" in out
    assert "C-1 “Our launch”: targeted 2, delivered 1, shared 1, clicks 0, CTR 0%" in out
    assert "• Bo Chen: targeted 1, delivered 0, shared 1" in out
    (path,) = (tmp_path / "exports").glob("content-*.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert {r["ambassador"]: r["response"] for r in rows} == {
        "Bo Chen": SHARED,
        "Dee Okafor": "snoozed",
    }
    assert {r["where"] for r in rows} == {"linkedin", ""}
