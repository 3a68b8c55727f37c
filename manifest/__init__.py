"""Allybot app manifests for Slack and Microsoft Teams.

* ``slack_manifest.yaml``: paste into https://api.slack.com/apps ("From an app manifest").
* ``teams/manifest.json`` + ``teams/color.png`` + ``teams/outline.png``: the Teams app template;
  :func:`manifest.teams_package.build_teams_package` turns it into an uploadable zip.
* ``make_icons.py``: regenerates the two Teams icons (stdlib only).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["slack_manifest_path", "teams_dir", "teams_manifest_path"]

_HERE = Path(__file__).resolve().parent


def slack_manifest_path() -> Path:
    """Path of the Slack app manifest (YAML)."""
    return _HERE / "slack_manifest.yaml"


def teams_dir() -> Path:
    """Folder holding the Teams manifest template and its icons."""
    return _HERE / "teams"


def teams_manifest_path() -> Path:
    """Path of the Teams app manifest template (placeholder GUIDs)."""
    return teams_dir() / "manifest.json"
