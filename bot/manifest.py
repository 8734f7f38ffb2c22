"""Build the Teams app package: manifest.json, its language files and the two icons, in one zip.

The template, `manifest/` in the checkout and shipped in the package as `bot/teams_app/` (a
link to it, so the files are in one place), holds `{{appId}}`, `{{version}}` and
`{{domain}}` placeholders; `build_package` checks the values it is given before it writes anything, so a missing or
malformed app id is an error, never a package Teams refuses at upload.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# The template is package data: found wherever klikbot is installed, not in a checkout.
DEFAULT_SOURCE: Traversable = resources.files("bot") / "teams_app"
DEFAULT_OUTPUT = Path("dist") / "klikbot-teams-app.zip"
MANIFEST_VERSION = "1.30"

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# The Teams schema's semver: three numbers, no leading zeros, nothing after.
_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(\*\.)?({_LABEL}\.)+[a-z]{{2,63}}")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}


class ManifestError(ValueError):
    """The package cannot be built; the message says what to fix."""


@dataclass(frozen=True)
class PackageValues:
    app_id: str
    version: str
    domain: str


def package_version() -> str:
    """The installed klikbot's version, as the app version by default."""
    try:
        return metadata.version("klikbot")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def check_app_id(app_id: str | None) -> str:
    value = (app_id or "").strip()
    if not value:
        raise ManifestError(
            "no app id: set MicrosoftAppId (the Azure Bot's Microsoft App ID) or pass --app-id"
        )
    if not _GUID.fullmatch(value):
        raise ManifestError(
            f"the app id {value!r} is not a GUID (like 6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90): "
            "use the Microsoft App ID of the Azure Bot resource"
        )
    return value.lower()


def check_version(version: str) -> str:
    value = version.strip()
    if not _SEMVER.fullmatch(value):
        raise ManifestError(
            f"the app version {value!r} must be three numbers like 1.4.0 (Teams' manifest semver); "
            "raise it for every package you upload"
        )
    return value


def domain_from(domain: str | None, public_url: str | None) -> str:
    """The bot's domain: --domain, else the host of KLIKBOT_PUBLIC_URL."""
    raw = (domain or "").strip() or (public_url or "").strip()
    if not raw:
        raise ManifestError(
            "no domain: set KLIKBOT_PUBLIC_URL (e.g. https://klikbot.example.dk) or pass --domain"
        )
    host = urlsplit(raw).hostname if "://" in raw else raw.split("/")[0].split(":")[0]
    value = (host or "").lower().rstrip(".")
    if not _DOMAIN.fullmatch(value):
        raise ManifestError(
            f"{raw!r} does not name a public domain such as klikbot.example.dk (Teams needs one in validDomains)"
        )
    return value


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _placeholders_left(value: Any) -> set[str]:
    text = json.dumps(value, ensure_ascii=False)
    return set(_PLACEHOLDER.findall(text))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ManifestError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _read_json(path: Traversable) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ManifestError(f"{path} is missing") from error
    except json.JSONDecodeError as error:
        raise ManifestError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ManifestError(f"{path} is not a JSON object")
    return data


def render_manifest(source: Traversable, values: PackageValues) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The filled-in manifest and every other file the package holds (name → bytes)."""
    template = _read_json(source / "manifest.json")
    manifest = _fill(template, {"appId": values.app_id, "version": values.version, "domain": values.domain})
    left = _placeholders_left(manifest)
    if left:
        raise ManifestError(f"manifest.json has placeholders nothing fills in: {sorted(left)}")
    if manifest.get("manifestVersion") != MANIFEST_VERSION:
        raise ManifestError(f"manifest.json must use manifestVersion {MANIFEST_VERSION}")
    files: dict[str, bytes] = {}
    for kind, (width, height) in ICON_SIZES.items():
        name = str(manifest["icons"][kind])
        try:
            data = (source / name).read_bytes()
        except FileNotFoundError as error:
            raise ManifestError(
                f"the {kind} icon {source / name} is missing (scripts/make_icons.py)"
            ) from error
        if png_size(data) != (width, height):
            raise ManifestError(f"the {kind} icon must be {width}×{height} pixels, not {png_size(data)}")
        files[name] = data
    for language in manifest.get("localizationInfo", {}).get("additionalLanguages", []):
        name = str(language["file"])
        strings = _read_json(source / name)
        files[name] = (json.dumps(strings, ensure_ascii=False, indent=2) + "\n").encode()
    return manifest, files


def build_package(values: PackageValues, output: Path, source: Traversable = DEFAULT_SOURCE) -> Path:
    """Write the zip (manifest.json, icons and language files at its root); returns its path."""
    manifest, files = render_manifest(source, values)
    output.parent.mkdir(parents=True, exist_ok=True)
    entries = {"manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode(), **files}
    partial = output.with_name(output.name + ".part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            # A fixed timestamp: the same inputs give the same zip.
            info = zipfile.ZipInfo(name, date_time=(2019, 1, 23, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, data)
    partial.replace(output)
    return output


def values_from(
    *, app_id: str | None, version: str | None, domain: str | None, public_url: str | None
) -> PackageValues:
    return PackageValues(
        app_id=check_app_id(app_id),
        version=check_version(version or package_version()),
        domain=domain_from(domain, public_url),
    )
