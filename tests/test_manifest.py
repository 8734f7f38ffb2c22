"""The Teams app package: a zip Teams accepts, built from the shipped template (bot/teams_app/) with
the bot's own values."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.cli import main
from bot.manifest import (
    DEFAULT_SOURCE,
    ManifestError,
    PackageValues,
    build_package,
    check_app_id,
    domain_from,
    values_from,
)
from tests.teams_schema import (
    LOCALIZATION_SCHEMA_URL,
    MANIFEST_SCHEMA_URL,
    localization_errors,
    manifest_errors,
)

APP_ID = "6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90"
VALUES = PackageValues(app_id=APP_ID, version="1.4.0", domain="klikbot.kombit.dk")
EXPECTED_FILES = {"manifest.json", "color.png", "outline.png", "en.json"}
COMMON_COMMANDS = [
    "hvilke opgaver mangler vi?",
    "frister i næste uge",
    "fortæl om <opgave>",
    "hvornår er næste programledermøde?",
    "kommende arrangementer",
    "er der driftsforstyrrelser?",
    "hjælp",
]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    path = build_package(VALUES, tmp_path_factory.mktemp("dist") / "klikbot-teams-app.zip")
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def manifest(package: zipfile.ZipFile) -> dict[str, Any]:
    data = json.loads(package.read("manifest.json"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def english(package: zipfile.ZipFile) -> dict[str, Any]:
    data = json.loads(package.read("en.json"))
    assert isinstance(data, dict)
    return data


def test_zip_holds_exactly_the_manifest_icons_and_language_file_at_its_root(
    package: zipfile.ZipFile,
) -> None:
    names = package.namelist()
    assert sorted(names) == sorted(EXPECTED_FILES)
    assert len(names) == len(set(names))
    assert package.testzip() is None


def test_manifest_is_valid_teams_manifest_1_30(manifest: dict[str, Any]) -> None:
    assert manifest_errors(manifest) == []
    assert manifest["$schema"] == MANIFEST_SCHEMA_URL
    assert manifest["manifestVersion"] == "1.30"


def test_manifest_carries_the_given_app_id_version_and_domain(manifest: dict[str, Any]) -> None:
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.4.0"
    assert manifest["validDomains"] == ["klikbot.kombit.dk"]
    assert "{{" not in json.dumps(manifest)


def test_manifest_offers_the_bot_in_every_scope_with_danish_commands(manifest: dict[str, Any]) -> None:
    bot = manifest["bots"][0]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    lists = {tuple(cl["scopes"]): [c["title"] for c in cl["commands"]] for cl in bot["commandLists"]}
    assert set(lists) == {("personal",), ("team",), ("groupChat",)}
    for titles in lists.values():
        assert set(COMMON_COMMANDS) <= set(titles)
    assert {"abonner", "afmeld"} <= set(lists[("team",)])
    for command_list in bot["commandLists"]:
        assert all(c.get("description") for c in command_list["commands"])


def test_manifest_describes_the_bot_for_an_administrator(manifest: dict[str, Any]) -> None:
    assert "KLIK" in manifest["description"]["short"]
    full = manifest["description"]["full"]
    assert "tenant" in full and "KOMBIT" in full and "programleder" in full


def test_danish_is_default_and_english_has_its_own_file(
    manifest: dict[str, Any], english: dict[str, Any]
) -> None:
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "da",
        "additionalLanguages": [{"languageTag": "en", "file": "en.json"}],
    }
    assert english["$schema"] == LOCALIZATION_SCHEMA_URL
    assert localization_errors(english) == []


def test_english_file_translates_every_command_and_nothing_else(
    manifest: dict[str, Any], english: dict[str, Any]
) -> None:
    expected = set()
    for i, command_list in enumerate(manifest["bots"][0]["commandLists"]):
        for j, command in enumerate(command_list["commands"]):
            for field in ("title", "description"):
                if field in command:
                    expected.add(f"bots[0].commandLists[{i}].commands[{j}].{field}")
    for i, feature in enumerate(manifest["description"].get("features", [])):
        expected |= {f"description.features[{i}].{field}" for field in feature}
    command_keys = {k for k in english if re.match(r"^(bots|description\.features)\[", k)}
    assert command_keys == expected
    assert english["bots[0].commandLists[0].commands[0].title"] == "what's outstanding?"
    assert all(english[k] != "" for k in english)


def _image(package: zipfile.ZipFile, name: str) -> Image.Image:
    image = Image.open(io.BytesIO(package.read(name)))
    assert image.format == "PNG"
    return image


def test_color_icon_is_192_pixels_square(package: zipfile.ZipFile) -> None:
    assert _image(package, "color.png").size == (192, 192)


def test_outline_icon_is_32_pixels_white_on_full_transparency(package: zipfile.ZipFile) -> None:
    image = _image(package, "outline.png")
    assert image.size == (32, 32)
    data = image.convert("RGBA").tobytes()
    pixels = [tuple(data[i : i + 4]) for i in range(0, len(data), 4)]
    bad = [p for p in pixels if not (p[3] == 0 or p == (255, 255, 255, 255))]
    assert bad == [], f"{len(bad)} pixels are neither fully transparent nor opaque white: {set(bad)}"
    assert any(p[3] == 255 for p in pixels), "the outline icon is empty"
    assert any(p[3] == 0 for p in pixels), "the outline icon has no transparent background"


def test_committed_icons_are_what_the_script_draws() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_icons", Path(__file__).resolve().parent.parent / "scripts" / "make_icons.py"
    )
    assert spec is not None and spec.loader is not None
    make_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_icons)
    for name, drawn in (("color.png", make_icons.draw_color()), ("outline.png", make_icons.draw_outline())):
        committed = Image.open(io.BytesIO((DEFAULT_SOURCE / name).read_bytes())).convert("RGBA")
        assert committed.size == drawn.size
        assert committed.tobytes() == drawn.convert("RGBA").tobytes(), f"{name}: run scripts/make_icons.py"


def test_the_same_inputs_give_the_same_zip(tmp_path: Path) -> None:
    first = build_package(VALUES, tmp_path / "a.zip").read_bytes()
    second = build_package(VALUES, tmp_path / "b.zip").read_bytes()
    assert first == second


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "   ",
        "klikbot",
        "6f1c2a4e0b7d4c599a1e3d2f5b8c7e90",
        "{6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90}",
        "6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e9",
        "6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90x",
        "gggggggg-0b7d-4c59-9a1e-3d2f5b8c7e90",
    ],
)
def test_a_missing_or_malformed_app_id_is_refused(app_id: str) -> None:
    with pytest.raises(ManifestError, match="app id"):
        check_app_id(app_id)


def test_cli_refuses_a_bad_app_id_and_writes_no_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MicrosoftAppId", "not-a-guid")
    output = tmp_path / "out.zip"
    assert main(["manifest", "build", "--domain", "klikbot.kombit.dk", "--output", str(output)]) == 2
    assert "is not a GUID" in capsys.readouterr().err
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_missing_app_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    assert main(["manifest", "build", "--domain", "klikbot.kombit.dk"]) == 2
    assert "MicrosoftAppId" in capsys.readouterr().err
    assert not (tmp_path / "dist").exists()


def test_cli_takes_app_id_and_domain_from_the_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MicrosoftAppId", APP_ID.upper())
    monkeypatch.setenv("KLIKBOT_PUBLIC_URL", "https://klikbot.kombit.dk/")
    assert main(["manifest", "build", "--version", "2.0.1"]) == 0
    assert "wrote" in capsys.readouterr().out
    with zipfile.ZipFile(tmp_path / "dist" / "klikbot-teams-app.zip") as package:
        built = json.loads(package.read("manifest.json"))
        assert sorted(package.namelist()) == sorted(EXPECTED_FILES)
    assert built["id"] == built["bots"][0]["botId"] == APP_ID
    assert built["version"] == "2.0.1"
    assert built["validDomains"] == ["klikbot.kombit.dk"]
    assert manifest_errors(built) == []


def test_options_win_over_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MicrosoftAppId", "not-a-guid")
    monkeypatch.setenv("KLIKBOT_PUBLIC_URL", "https://old.example.dk")
    output = tmp_path / "custom" / "app.zip"
    argv = ["manifest", "build", "--app-id", APP_ID, "--domain", "bot.kombit.dk", "--output", str(output)]
    assert main(argv) == 0
    with zipfile.ZipFile(output) as package:
        built = json.loads(package.read("manifest.json"))
    assert built["id"] == APP_ID and built["validDomains"] == ["bot.kombit.dk"]


@pytest.mark.parametrize(
    ("domain", "public_url", "expected"),
    [
        ("klikbot.kombit.dk", None, "klikbot.kombit.dk"),
        (None, "https://klikbot.kombit.dk:8443/api", "klikbot.kombit.dk"),
        ("https://Bot.Example.DK/x", "https://other.dk", "bot.example.dk"),
        ("*.kombit.dk", None, "*.kombit.dk"),
    ],
)
def test_domain_comes_from_the_option_or_the_public_url(
    domain: str | None, public_url: str | None, expected: str
) -> None:
    assert domain_from(domain, public_url) == expected


@pytest.mark.parametrize(
    ("domain", "public_url"), [(None, None), ("", ""), ("localhost", None), (None, "http://127.0.0.1:3978")]
)
def test_a_missing_or_unusable_domain_is_refused(domain: str | None, public_url: str | None) -> None:
    with pytest.raises(ManifestError, match="domain"):
        domain_from(domain, public_url)


@pytest.mark.parametrize("version", ["1", "1.2", "01.2.3", "1.2.3-beta", "v1.2.3", ""])
def test_a_version_that_is_not_plain_semver_is_refused(version: str) -> None:
    with pytest.raises(ManifestError, match="version"):
        values_from(app_id=APP_ID, version=version or " ", domain="klikbot.kombit.dk", public_url=None)
