"""Build the Microsoft Teams app package (the zip you upload in Teams or the Developer Portal).

Teams only accepts a flat zip: ``manifest.json`` and the two icons at the zip root, no folder.
The template in ``manifest/teams/manifest.json`` carries the placeholder GUID
``00000000-0000-0000-0000-000000000000``; :func:`build_teams_package` puts the real Microsoft App
ID (the bot's Azure / Bot Framework app registration) in every place that needs it.

Command line::

    python -m manifest.teams_package 1b2c3d4e-... dist/allybot.zip --bot-domain bot.contoso.com
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from manifest import slack_manifest_path, teams_dir, teams_manifest_path

__all__ = [
    "PLACEHOLDER_APP_ID",
    "build_teams_package",
    "render_teams_manifest",
    "slack_manifest_path",
    "teams_manifest_path",
]

PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DOMAIN = "allybot.example.com"

# Same pattern as "#/definitions/guid" in the Teams manifest schema.
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})+")

# Teams rejects packages whose icons are not exactly these sizes.
_ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Fixed timestamp so that the same inputs always give a byte-identical zip.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def _check_app_id(app_id: str) -> str:
    candidate = app_id.strip() if isinstance(app_id, str) else ""
    if not _GUID.fullmatch(candidate):
        raise ValueError(
            f"app id {app_id!r} is not a GUID; expected the Microsoft App ID of the bot "
            "registration, like 1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d "
            "(8-4-4-4-12 hexadecimal digits)"
        )
    if candidate == PLACEHOLDER_APP_ID:
        raise ValueError(
            f"app id {app_id!r} is the template placeholder; expected the Microsoft App ID of "
            "the bot registration (Azure Bot -> Configuration -> Microsoft App ID)"
        )
    return candidate


def _check_domain(bot_domain: str) -> str:
    candidate = bot_domain.strip()
    if not _HOST.fullmatch(candidate):
        raise ValueError(
            f"bot domain {bot_domain!r} is not a host name; expected a bare host such as "
            "allybot.contoso.com (no https://, path or port)"
        )
    return candidate.lower()


def _swap_host(url: str, host: str) -> str:
    parts = urlsplit(url)
    if parts.hostname != PLACEHOLDER_DOMAIN:
        return url
    return urlunsplit(parts._replace(netloc=host))


def render_teams_manifest(app_id: str, *, bot_domain: str | None = None) -> dict[str, Any]:
    """Return the Teams manifest template with the app id (and optionally the domain) filled in."""
    guid = _check_app_id(app_id)
    domain = _check_domain(bot_domain) if bot_domain is not None else None

    manifest: dict[str, Any] = json.loads(teams_manifest_path().read_text(encoding="utf-8"))
    manifest["id"] = guid
    for bot in manifest.get("bots", []):
        bot["botId"] = guid
    for extension in manifest.get("composeExtensions", []):
        if "botId" in extension:
            extension["botId"] = guid
    web_app = manifest.get("webApplicationInfo")
    if isinstance(web_app, dict):
        web_app["id"] = guid
        if isinstance(web_app.get("resource"), str):
            web_app["resource"] = web_app["resource"].replace(PLACEHOLDER_APP_ID, guid)

    if domain is not None:
        domains = [d for d in manifest.get("validDomains", []) if d != PLACEHOLDER_DOMAIN]
        manifest["validDomains"] = [domain, *(d for d in domains if d != domain)]
        developer = manifest.get("developer", {})
        for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
            if isinstance(developer.get(key), str):
                developer[key] = _swap_host(developer[key], domain)
        if isinstance(web_app, dict) and isinstance(web_app.get("resource"), str):
            web_app["resource"] = _swap_host(web_app["resource"], domain)
    return manifest


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which the PNG spec requires to come first)."""
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _icon_bytes(manifest: dict[str, Any]) -> dict[str, bytes]:
    icons: dict[str, bytes] = {}
    for kind, expected in _ICON_SIZES.items():
        name = manifest["icons"][kind]
        if "/" in name or "\\" in name:
            raise ValueError(f"icons.{kind} {name!r} must be a file name at the package root")
        path = teams_dir() / name
        data = path.read_bytes()
        try:
            size = _png_size(data)
        except ValueError:
            raise ValueError(f"{path} is not a PNG; Teams needs a PNG icon") from None
        if size != expected:
            raise ValueError(
                f"{path} is {size[0]}x{size[1]}; Teams needs the {kind} icon to be "
                f"{expected[0]}x{expected[1]} (regenerate with python manifest/make_icons.py)"
            )
        icons[name] = data
    return icons


def build_teams_package(app_id: str, out: Path, *, bot_domain: str | None = None) -> Path:
    """Write the Teams app package zip to ``out`` and return ``out``.

    ``app_id`` is the bot's Microsoft App ID (a GUID); it becomes the Teams app ``id``, the bot's
    ``botId`` and the message extension's ``botId``. ``bot_domain`` (a bare host name), when
    given, replaces ``allybot.example.com`` in ``validDomains`` and the developer URLs.

    Raises ``ValueError`` for a malformed app id / domain or a wrong-sized icon.
    """
    manifest = render_teams_manifest(app_id, bot_domain=bot_domain)
    icons = _icon_bytes(manifest)
    payload = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write next to the target and rename, so a failure never leaves a half-written package.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in (("manifest.json", payload), *icons.items()):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m manifest.teams_package",
        description="Build the Allybot Microsoft Teams app package (zip).",
    )
    parser.add_argument("app_id", help="Microsoft App ID of the bot registration (a GUID)")
    parser.add_argument("out", type=Path, help="where to write the zip, e.g. dist/allybot.zip")
    parser.add_argument("--bot-domain", help="host serving the bot, e.g. allybot.contoso.com")
    args = parser.parse_args(argv)
    try:
        path = build_teams_package(args.app_id, args.out, bot_domain=args.bot_domain)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
