"""The Slack and Teams app manifests validate against the vendors' official JSON schemas.

The schemas are copies in ``tests/fixtures`` (Slack's slackapi/manifest-schema and
OfficeDev/microsoft-teams-app-schema; see tests/fixtures/SOURCES.md), reached through the
``reference`` fixture. Validation is done here with jsonschema + referencing, entirely offline:
remote ``$ref``s are served from the local copies and nothing else resolves.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # plain `pytest` does not put the project root on sys.path
    sys.path.insert(0, str(PROJECT_ROOT))

from manifest import slack_manifest_path, teams_manifest_path  # noqa: E402
from manifest.teams_package import build_teams_package  # noqa: E402

PLACEHOLDER_GUID = "00000000-0000-0000-0000-000000000000"
APP_ID = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
ENDPOINT = "https://allybot.example.com/slack/events"

Draft7 = jsonschema.Draft7Validator
Doc = dict[str, Any]


# --------------------------------------------------------------------------- helpers


# The `reference` fixture (the tests/fixtures folder) is in conftest.py.


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _remote_refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            yield ref.split("#", 1)[0]
        for value in node.values():
            yield from _remote_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _remote_refs(value)


@functools.cache
def _slack_validator(reference: Path) -> Validator:
    """Draft-07 validator for Slack's all-versions schema; its remote $refs come from ./schemas."""
    schema_dir = reference / "slack" / "manifest-schema"
    root = _load_json(schema_dir / "manifest.schema.json")
    resources = [
        (
            uri,
            Resource.from_contents(
                _load_json(schema_dir / "schemas" / uri.rsplit("/", 1)[-1]),
                default_specification=DRAFT7,
            ),
        )
        for uri in sorted(set(_remote_refs(root)))
    ]
    assert resources, "Slack's top-level schema should $ref the per-version schemas"
    Draft7.check_schema(root)
    # No `retrieve=`: any $ref not registered above raises instead of going to the network.
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft7(root, registry=registry)


@functools.cache
def _teams_validator(reference: Path, manifest_version: str) -> Validator:
    """Validator for the Teams schema whose manifestVersion const matches.

    Only the schema for the manifest's own version is kept in the fixtures; another version needs
    its schema copied into ``teams/manifest-schema/versions/`` (see tests/fixtures/SOURCES.md).
    The Teams schemas declare draft-04 but rely on draft-06+ ``const`` (e.g. to pin
    manifestVersion); a draft-04 validator silently ignores it, so draft-07 is used on purpose.
    """
    versions = reference / "teams" / "manifest-schema" / "versions"
    path = versions / f"MicrosoftTeams.schema.v{manifest_version}.json"
    assert path.is_file(), f"no local Teams schema for manifestVersion {manifest_version!r}: {path}"
    schema = _load_json(path)
    pinned = schema["properties"]["manifestVersion"].get("const")
    assert pinned == manifest_version, f"{path} pins manifestVersion {pinned!r}"
    return Draft7(schema)


def _errors(validator: Validator, doc: Doc) -> list[str]:
    """All validation errors as 'json/path: message', including oneOf/anyOf sub-errors."""
    found: list[str] = []

    def walk(errors: Iterable[jsonschema.ValidationError]) -> None:
        for err in errors:
            where = "/".join(str(p) for p in err.absolute_path) or "<root>"
            found.append(f"{where}: {err.message}")
            walk(err.context or ())

    walk(validator.iter_errors(doc))
    return found


def _slack_doc() -> Doc:
    doc = yaml.safe_load(slack_manifest_path().read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _teams_doc() -> Doc:
    doc = _load_json(teams_manifest_path())
    assert isinstance(doc, dict)
    return doc


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r} chunk"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def _png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk."""
    width, height, depth, colour = struct.unpack(">IIBB", _png_chunks(data)[0][1][:10])
    return width, height, depth, colour


def _png_rgba(data: bytes) -> list[tuple[int, int, int, int]]:
    """Decode an 8-bit, non-interlaced RGBA PNG (any row filter) into pixels."""
    chunks = _png_chunks(data)
    width, height, depth, colour = _png_header(data)
    assert (depth, colour, chunks[0][1][12]) == (8, 6, 0), "expected 8-bit RGBA, no interlace"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    bpp, stride = 4, width * 4
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int, int]] = []
    for y in range(height):
        row_start = y * (stride + 1)
        filt, row = raw[row_start], bytearray(raw[row_start + 1 : row_start + 1 + stride])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                row[i] = (row[i] + a) & 0xFF
            elif filt == 2:
                row[i] = (row[i] + b) & 0xFF
            elif filt == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
            else:
                assert filt == 0, f"unknown PNG filter {filt}"
        pixels.extend((row[x], row[x + 1], row[x + 2], row[x + 3]) for x in range(0, stride, bpp))
        prev = row
    return pixels


# --------------------------------------------------------------------------- Slack


def test_slack_manifest_validates_against_official_schema(reference: Path) -> None:
    errors = _errors(_slack_validator(reference), _slack_doc())
    assert errors == [], "Slack manifest is invalid:\n" + "\n".join(errors)


def test_slack_manifest_declares_commands_events_and_scopes() -> None:
    doc = _slack_doc()
    features, settings = doc["features"], doc["settings"]

    assert doc["display_information"]["name"] == "Allybot"
    # Slack's schema spells the colour constraint "regex" (not "pattern"), so jsonschema ignores
    # it: check it here instead.
    assert re.fullmatch(
        r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", doc["display_information"]["background_color"]
    )

    assert features["bot_user"] == {"display_name": "Allybot", "always_online": True}
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }

    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == {"/ally", "/kudos", "/feedback", "/ask"}
    (shortcut,) = features["shortcuts"]
    assert shortcut["callback_id"] == "send_as_feedback" and shortcut["type"] == "message"
    for command in commands.values():
        assert command["url"] == ENDPOINT
        assert command["should_escape"] is True  # mentions arrive as <@U123|name>
    assert commands["/ally"]["usage_hint"] == "[kudos|ask|whoknows|help] ..."

    events = set(settings["event_subscriptions"]["bot_events"])
    assert {
        "app_mention",
        "message.im",
        "reaction_added",
        "reaction_removed",
        "app_home_opened",
    } <= events
    assert "member_joined_channel" in events
    # Help channels: questions are top-level posts in public and private channels.
    assert {"message.channels", "message.groups"} <= events
    assert settings["event_subscriptions"]["request_url"] == ENDPOINT
    assert settings["interactivity"] == {"is_enabled": True, "request_url": ENDPOINT}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False

    scopes = set(doc["oauth_config"]["scopes"]["bot"])
    needed_by = {
        "slash commands": {"commands"},
        "app_mention": {"app_mentions:read"},
        "message.im": {"im:history"},
        "reaction_added / reaction_removed": {"reactions:read"},
        "member_joined_channel": {"channels:read", "groups:read"},
        "chat.postMessage / chat.postEphemeral": {"chat:write"},
        "conversations.open": {"im:write"},
        "users.info": {"users:read"},
        "message.channels": {"channels:history"},
        "message.groups": {"groups:history"},
        "dnd.info (allies in Do Not Disturb are not asked)": {"dnd:read"},
        # Approved community requests: public and private channels, and their first member.
        "conversations.create / conversations.invite": {"channels:manage", "groups:write"},
    }
    for what, required in needed_by.items():
        assert required <= scopes, f"{what} needs {sorted(required - scopes)}"


def test_slack_manifest_top_comment_explains_socket_mode() -> None:
    header = []
    for line in slack_manifest_path().read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = " ".join(header)
    assert "Socket Mode" in text and "socket_mode_enabled true" in text
    assert "request URL" in text


def test_slack_scopes_cover_web_api_methods_per_openapi(reference: Path) -> None:
    """Cross-check against Slack's (2020) OpenAPI spec, which lists the accepted scopes per method.

    The spec still names the legacy ``chat:write:bot`` scope; granular bot tokens use
    ``chat:write``.
    """
    spec = _load_json(reference / "slack" / "web-api-openapi" / "slack_web_openapi_v2.json")
    scopes = set(_slack_doc()["oauth_config"]["scopes"]["bot"])
    methods = ("chat.postMessage", "chat.postEphemeral", "conversations.open", "users.info")
    for method in (*methods, "chat.update", "dnd.info", "conversations.create"):
        (operation,) = spec["paths"][f"/{method}"].values()
        accepted = {
            scope.removesuffix(":bot")
            for requirement in operation["security"]
            for scope in requirement.get("slackAuth", [])
        }
        assert accepted & scopes, f"{method} accepts {sorted(accepted)}; manifest has none"


def _del_name(doc: Doc) -> None:
    del doc["display_information"]["name"]


def _bad_type(doc: Doc) -> None:
    doc["features"]["bot_user"]["always_online"] = "yes"


def _command_without_slash(doc: Doc) -> None:
    doc["features"]["slash_commands"][0]["command"] = "ally"


def _typo_key(doc: Doc) -> None:
    doc["settings"]["event_subscription"] = doc["settings"].pop("event_subscriptions")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_del_name, "display_information: 'name' is a required property"),
        (_bad_type, "features/bot_user/always_online: 'yes' is not of type 'boolean'"),
        (_command_without_slash, "features/slash_commands/0/command: 'ally' does not match"),
        (_typo_key, "settings: Additional properties are not allowed ('event_subscription'"),
    ],
    ids=["missing-name", "bad-type", "command-without-slash", "typo-key"],
)
def test_broken_slack_manifest_fails_validation(
    reference: Path, breakage: Callable[[Doc], None], expected: str
) -> None:
    doc = copy.deepcopy(_slack_doc())
    breakage(doc)
    errors = _errors(_slack_validator(reference), doc)
    assert errors, "a broken manifest must not validate"
    assert any(e.startswith(expected) for e in errors), "\n".join(errors)


# --------------------------------------------------------------------------- Teams


def test_teams_manifest_validates_against_schema_for_its_version(reference: Path) -> None:
    doc = _teams_doc()
    assert doc["$schema"] == (
        "https://developer.microsoft.com/en-us/json-schemas/teams/"
        f"v{doc['manifestVersion']}/MicrosoftTeams.schema.json"
    )
    errors = _errors(_teams_validator(reference, doc["manifestVersion"]), doc)
    assert errors == [], "Teams manifest is invalid:\n" + "\n".join(errors)


def test_teams_manifest_content() -> None:
    doc = _teams_doc()
    assert doc["id"] == PLACEHOLDER_GUID
    assert doc["name"]["short"] == "Allybot"
    assert doc["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert doc["validDomains"] == ["allybot.example.com"]
    assert doc["permissions"] == ["identity", "messageTeamMembers"]
    # Help channels: resource-specific consent lets every channel post reach the bot, not only
    # @mentions; RSC needs webApplicationInfo with the app's id (the package builder sets it).
    assert doc["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}
    ]
    assert doc["webApplicationInfo"]["id"] == PLACEHOLDER_GUID

    (bot,) = doc["bots"]
    assert bot["botId"] == PLACEHOLDER_GUID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    listed = {scope for cl in bot["commandLists"] for scope in cl["scopes"]}
    assert listed == {"personal", "team", "groupChat"}
    import tempfile

    from bot.bootstrap import bootstrap
    from bot.settings import Settings
    from store import Database

    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/names.db"  # never opened
    known = {"help", *bootstrap(Settings(_env_file=None), Database(url), {}).commands.names}
    for command_list in bot["commandLists"]:
        titles = {c["title"] for c in command_list["commands"]}
        assert {"help", "kudos", "kudos stats", "feedback", "leaderboard"} <= titles
        # Every suggestion Teams shows must be a command the bot understands.
        assert {t.split()[0] for t in titles} <= known, titles
        assert len(titles) <= 10  # Teams' limit per scope

    (extension,) = doc["composeExtensions"]
    assert extension["botId"] == PLACEHOLDER_GUID
    command, feedback = extension["commands"]
    assert feedback["id"] == "sendAsFeedback" and feedback["fetchTask"] is True
    assert command["id"] == "giveKudos" and command["type"] == "action"
    assert command["context"] == ["message"] and command["fetchTask"] is False
    (param,) = command["parameters"]
    assert param["name"] == "reason" and param["inputType"] == "textarea"


def _teams_bad_id(doc: Doc) -> None:
    doc["id"] = "allybot"


def _teams_no_bot_id(doc: Doc) -> None:
    del doc["bots"][0]["botId"]


def _teams_bad_scope(doc: Doc) -> None:
    doc["bots"][0]["scopes"] = ["personal", "channel"]


def _teams_package_name(doc: Doc) -> None:
    doc["packageName"] = "com.example.allybot"  # accepted up to v1.16, removed since v1.17


def _teams_version_mismatch(doc: Doc) -> None:
    doc["manifestVersion"] = "1.29"  # validated below against the 1.19 schema: const must bite


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_teams_bad_id, "id: 'allybot' does not match"),
        (_teams_no_bot_id, "bots/0: 'botId' is a required property"),
        (_teams_bad_scope, "bots/0/scopes/1: 'channel' is not one of"),
        (_teams_package_name, "<root>: Additional properties are not allowed ('packageName'"),
        (_teams_version_mismatch, "manifestVersion: '1.19' was expected"),
    ],
    ids=["bad-id", "no-bot-id", "bad-scope", "package-name", "version-const"],
)
def test_broken_teams_manifest_fails_validation(
    reference: Path, breakage: Callable[[Doc], None], expected: str
) -> None:
    doc = copy.deepcopy(_teams_doc())
    version = doc["manifestVersion"]
    breakage(doc)
    errors = _errors(_teams_validator(reference, version), doc)
    assert errors, "a broken manifest must not validate"
    assert any(e.startswith(expected) for e in errors), "\n".join(errors)


# --------------------------------------------------------------------------- Teams package


def _read_package(path: Path) -> tuple[Doc, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        files = {name: zf.read(name) for name in zf.namelist()}
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"], "files must be at root"
    manifest = json.loads(files.pop("manifest.json").decode("utf-8"))
    return manifest, files


def test_build_teams_package_layout_ids_and_icons(tmp_path: Path) -> None:
    out = build_teams_package(APP_ID, tmp_path / "dist" / "allybot.zip")
    assert out == tmp_path / "dist" / "allybot.zip" and out.is_file()

    manifest, icons = _read_package(out)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["composeExtensions"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"]["id"] == APP_ID  # RSC consent is for this app
    assert PLACEHOLDER_GUID not in json.dumps(manifest)

    assert _png_header(icons["color.png"])[:2] == (192, 192)
    assert _png_header(icons["outline.png"])[:2] == (32, 32)
    outline = _png_rgba(icons["outline.png"])
    assert all(px[3] == 0 or px[:3] == (255, 255, 255) for px in outline), "outline: white only"
    assert any(px[3] == 0 for px in outline) and any(px[3] == 255 for px in outline)
    colour = _png_rgba(icons["color.png"])
    assert all(px[3] == 255 for px in colour), "colour icon should be opaque"
    assert len(set(colour)) > 2, "colour icon should not be a flat square"

    # Same inputs, same bytes: packages can be diffed and cached.
    again = build_teams_package(APP_ID, tmp_path / "again.zip")
    assert again.read_bytes() == out.read_bytes()


def test_built_teams_package_validates(reference: Path, tmp_path: Path) -> None:
    manifest, _ = _read_package(build_teams_package(APP_ID, tmp_path / "allybot.zip"))
    errors = _errors(_teams_validator(reference, manifest["manifestVersion"]), manifest)
    assert errors == [], "\n".join(errors)


def test_build_teams_package_with_bot_domain(reference: Path, tmp_path: Path) -> None:
    out = build_teams_package(APP_ID, tmp_path / "a.zip", bot_domain="allybot.contoso.com")
    manifest, _ = _read_package(out)
    assert manifest["validDomains"] == ["allybot.contoso.com"]
    assert manifest["developer"]["websiteUrl"] == "https://allybot.contoso.com"
    assert manifest["developer"]["privacyUrl"] == "https://allybot.contoso.com/privacy"
    assert "allybot.example.com" not in json.dumps(manifest)
    assert _errors(_teams_validator(reference, manifest["manifestVersion"]), manifest) == []


@pytest.mark.parametrize(
    "app_id",
    [
        "abc",
        "",
        "1b2c3d4e5f604a7b8c9d0e1f2a3b4c5d",
        "{1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d}",
        "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5g",
        "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d-1",
    ],
)
def test_build_teams_package_rejects_non_guid(tmp_path: Path, app_id: str) -> None:
    out = tmp_path / "allybot.zip"
    with pytest.raises(ValueError, match="is not a GUID") as info:
        build_teams_package(app_id, out)
    message = str(info.value)
    assert repr(app_id) in message and "expected the Microsoft App ID" in message
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_build_teams_package_rejects_placeholder_guid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        build_teams_package(PLACEHOLDER_GUID, tmp_path / "allybot.zip")


def test_build_teams_package_rejects_url_as_domain(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        build_teams_package(APP_ID, tmp_path / "a.zip", bot_domain="https://allybot.contoso.com/")
