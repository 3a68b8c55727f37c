"""The console adapter and the `allybot` command, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.console.app import run_console
from bot.clock import ManualClock
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo.txt"


async def transcript(settings: Settings, script: str, tmp_path: Path, clock: ManualClock) -> str:
    path = tmp_path / "script.txt"
    path.write_text(script)
    lines: list[str] = []
    assert await run_console(settings, script=path, clock=clock, out=lines.append) == 0
    return "\n".join(lines)


async def test_demo_shows_kudos_given_refused_and_taken_back(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    out = await transcript(settings, DEMO.read_text(), tmp_path, clock)
    assert "Kudos sent to @Bo Chen. You have 4 of 5 left today." in out
    assert "[DM to bo] #1 Allybot: 🎉 @Ana Lopez gave you kudos" in out
    assert "[#general] #2 Allybot: 🎉 @Ana Lopez gave kudos to @Bo Chen" in out
    # Badges a kudos earns are follow-ups: announced after the thanks and its public post.
    assert "[DM to ana] #3 Allybot: 🏅 You earned the 👏 First thanks badge" in out
    assert "You can't give kudos to yourself" in out
    assert "Deploybot is a bot: kudos are for people." in out
    assert "@Cy Sato gave you kudos with :clap: on your message" in out
    assert "You took back your kudos to Bo Chen." in out
    assert "You've used all 2 kudos you can give today" in out
    assert "Received: 2 this week" in out


async def test_console_explains_bad_input(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    script = "\n".join(
        [
            ":react 99 clap",
            ":react abc clap",
            ":as nobody",
            ":in #nowhere",
            ":frobnicate",
            "/ally kudoz @bo hi",
            "/kudos @nobody thanks",
            ":as bo",
            "/ally config allowance 3",
            ":in @allybot",
            "kudos @cy thanks for pairing",
        ]
    )
    out = await transcript(settings, script, tmp_path, clock)
    assert "There's no message #99" in out
    assert "'abc' is not a message number" in out
    assert "There's no person called 'nobody'" in out
    assert "No channel '#nowhere'" in out
    assert "Unknown control ':frobnicate'" in out
    assert "Did you mean /ally kudos?" in out
    assert "Who are you thanking?" in out
    assert "Only people with the admin role can change workspace settings" in out
    assert "Kudos sent to @Cy Sato" in out  # typed to the bot in a DM


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    clean.update(DATA_DIR=str(tmp_path / "data"), **env)
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_cli_without_credentials_starts_the_console(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT)}
    result = _run([], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "No Slack or Teams credentials are set" in result.stderr
    assert "Allybot console" in result.stdout
    assert (tmp_path / "data" / "allybot.db").exists()
    script = _run(["console", "--script", str(DEMO)], tmp_path, **env)
    assert script.returncode == 0, script.stderr
    assert "Kudos sent to @Bo Chen" in script.stdout


def test_cli_reports_bad_configuration_by_name(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT)}
    result = _run(["console"], tmp_path, DEFAULT_TIMEZONE="Mars/Olympus", **env)
    assert result.returncode != 0
    assert "DEFAULT_TIMEZONE" in result.stderr and "IANA" in result.stderr
    assert "Traceback" not in result.stderr
    result = _run(["db", "upgrade"], tmp_path, KUDOS_DAILY_ALLOWANCE="lots", **env)
    assert "KUDOS_DAILY_ALLOWANCE" in result.stderr and "Traceback" not in result.stderr


def test_cli_db_upgrade_and_manifest(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT)}
    upgraded = _run(["db", "upgrade"], tmp_path, **env)
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert upgraded.returncode == 0 and f"revision {head}" in upgraded.stdout, upgraded.stderr
    bad = _run(["manifest", "teams", "--app-id", "not-a-guid"], tmp_path, **env)
    assert bad.returncode == 2 and "is not a GUID" in bad.stderr
    out = tmp_path / "app.zip"
    good = _run(
        [
            "manifest",
            "teams",
            "--app-id",
            "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
            "--out",
            str(out),
        ],
        tmp_path,
        **env,
    )
    assert good.returncode == 0 and out.exists(), good.stderr
    slack = _run(["manifest", "slack"], tmp_path, **env)
    assert "/kudos" in slack.stdout


def test_serve_without_a_platform_says_what_to_set(tmp_path: Path) -> None:
    result = _run(["serve"], tmp_path, PYTHONPATH=str(ROOT))
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "MICROSOFT_APP_ID" in result.stderr


async def test_recognition_demo_on_the_console(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    script = (ROOT / "examples" / "recognition.txt").read_text()
    out = await transcript(settings, script, tmp_path, clock)
    assert "Cy Sato is now a curator." in out
    assert "Awarded 🎓 Trained ambassador to Bo Chen" in out
    assert "[DM to bo]" in out and "You earned the 🎓 Trained ambassador badge" in out
    assert "1. @Bo Chen — 2" in out and "You: #2 with 1." in out
    assert "Recognition you value: learning budget" in out
    assert "┌ Hi Bo Chen 👋" in out and "[Give kudos]  [Leaderboard]  [My profile]" in out


async def test_ambassador_program_demo_on_the_console(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(DATABASE_URL=sqlite_url, _env_file=None)  # type: ignore[call-arg]
    script = (ROOT / "examples" / "ambassadors.txt").read_text()
    out = await transcript(settings, script, tmp_path, clock)
    assert "There's no office “Pariss”; the offices are Lyon, Paris." in out
    assert "[DM to cy] #1 Allybot: ┌ Ambassador request: Bo Chen" in out
    assert "You already asked to join on 7 Dec 2026" in out
    assert "Bo Chen is now an ambassador." in out and "✅ Approved by Cy Sato." in out
    assert "[I'm in]" in out and "You're in! Your training checklist" in out
    assert "[Done 1]  [Done 2]  [Done 3]" in out
    assert "There's no step 9: the checklist has 3 steps" in out
    assert "Lyon has no ambassador now." in out and "Lyon: ⚠️ no ambassador" in out
    assert "Ambassadors interested in events: Bo Chen." in out
    assert "Channel names can't contain spaces" in out and "must be lowercase" in out
    assert "A private community needs a reason" in out
    assert "R-2: Cy Sato declined your request for #leads: “please keep it open" in out
    assert "please create #design-guild by hand" in out
    assert out.count("Weekly coverage: 1 office has lost its last ambassador") == 2  # cy, ana
    assert out.count("gentle nudge about your ambassador training") == 1
    assert out.count("You earned the 🎓 Trained ambassador badge") == 1
    assert "Ambassador training: completed 14 Dec 2026" in out
