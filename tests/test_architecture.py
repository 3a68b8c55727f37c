"""The shape of the code: layering, lint and types are part of the suite, so CI keeps them."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp", "msrest")


def _imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def test_core_knows_no_platform_and_no_adapter() -> None:
    leaks = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in _imports("bot")
        if name.split(".")[0] in PLATFORM_LIBS or name.split(".")[0] == "adapters"
    ]
    assert leaks == []


def test_store_knows_neither_core_nor_adapters() -> None:
    leaks = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in _imports("store")
        if name.split(".")[0] in ("bot", "adapters", *PLATFORM_LIBS)
    ]
    assert leaks == []


def _imported_names(package: str) -> list[tuple[Path, str]]:
    """Each name each module imports, qualified (``from store import Database``: store.Database)."""
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [(path, f"{node.module}.{alias.name}") for alias in node.names]
    return found


# The console simulates a chat platform, so its world lives in its own tables (store.console); it
# also opens the database it shares with the core. Nothing else in the store is for adapters.
CONSOLE_STORE = ("store.console", "store.Database")


def test_adapters_reach_data_only_through_the_core() -> None:
    leaks = []
    for path, name in _imported_names("adapters"):
        if name != "store" and not name.startswith("store."):
            continue
        in_console = path.relative_to(ROOT / "adapters").parts[0] == "console"
        allowed = in_console and any(
            name == ok or name.startswith(f"{ok}.") for ok in CONSOLE_STORE
        )
        if not allowed:
            leaks.append(f"{path.relative_to(ROOT)}: {name}")
    assert not leaks, "adapters must reach data through the core:\n" + "\n".join(sorted(leaks))


def test_platform_libraries_stay_in_their_adapter() -> None:
    misplaced = []
    for path, name in _imports("adapters"):
        top = name.split(".")[0]
        folder = path.relative_to(ROOT / "adapters").parts[0]
        if top in ("slack_bolt", "slack_sdk") and folder != "slack":
            misplaced.append(f"{path.relative_to(ROOT)}: {name}")
        if top in ("botbuilder", "botframework", "msrest") and folder != "teams":
            misplaced.append(f"{path.relative_to(ROOT)}: {name}")
    assert misplaced == []


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
