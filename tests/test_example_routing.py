"""examples/routing.txt, run as someone trying the console would: a question routed, escalated,
claimed, resolved, credited and thanked."""

from __future__ import annotations

from pathlib import Path

from adapters.console.app import run_console
from bot.clock import ManualClock, ShiftedClock
from bot.settings import Settings

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "routing.txt"


async def test_routing_example(sqlite_url: str, clock: ManualClock) -> None:
    lines: list[str] = []
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    code = await run_console(settings, script=SCRIPT, clock=ShiftedClock(clock), out=lines.append)
    assert code == 0
    out = "\n".join(lines)
    assert "Traceback" not in out and "Unknown control" not in out
    # Routed: only Dee (an expert on duty) is asked; the thread says so.
    assert "[DM to dee] #2 Allybot: ┌ Q-1 · vpn" in out
    assert "Q-1: I've asked people who know about vpn (it mentions “vpn”): @Dee Okafor." in out
    assert "[DM to cy]" not in out and "[DM to bo] #2" not in out
    # Escalated after 20 working minutes to the community team, and the asker is told.
    assert "[DM to ana] #4 Allybot: ┌ Q-1 · vpn" in out
    assert "so I've asked the community team (Ana Lopez)" in out
    # Claimed, resolved by reaction, credited, thanked.
    assert "🙌 Dee Okafor is on Q-1." in out
    assert "[DM with ana, edited] #4 Allybot: ✅ Dee Okafor is on Q-1." in out
    assert "Q-1 is resolved and counts as a question you answered" in out
    assert "@Bo Chen gave you kudos: “thanks for answering my question Q-1”" in out
    assert "Asked: Dee Okafor (claimed, Mon 04:00), Ana Lopez (lost, Mon 04:25)" in out
    assert "First response: 25 working minutes (25 wall minutes)" in out
    assert "Expert on: vpn" in out
    assert "Mon-Fri 08:00-16:00, Asia/Tokyo" in out
