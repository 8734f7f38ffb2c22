"""klikbot works from its wheel, without the checkout: the files `manifest build` and `cards render`
need are package data, found through importlib.resources wherever klikbot is installed.

The wheel is built as scripts/check_install.py builds it (which scripts/test runs in a fresh venv
with every documented command); here it is installed with `pip --target` beside this venv's
dependencies, and the commands run from a directory of their own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from bot import gallery_render
from bot.chromium import BrowserError

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "6f1c2a4e-0b7d-4c59-9a1e-3d2f5b8c7e90"
# What the commands read at run time (the demo data and migrations were shipped before).
NEEDED = {
    "bot/teams_app/manifest.json",
    "bot/teams_app/en.json",
    "bot/teams_app/color.png",
    "bot/teams_app/outline.png",
    "bot/card_renderer/render.html",
    "bot/card_renderer/render.js",
    "bot/card_renderer/package.json",
    "bot/card_renderer/package-lock.json",
    "bot/card_renderer/hostconfig.microsoft-teams-light.json",
    "storage/data/demo.yaml",
    "storage/data/catalogue.schema.json",
    "storage/migrations/env.py",
    "storage/migrations/script.py.mako",
}


def _check_install() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_install", ROOT / "scripts" / "check_install.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_install", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path: Path = _check_install().build_wheel(tmp_path_factory.mktemp("build"))
    return path


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    return target


def _installed(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` with the installed package first on the path, from `cwd`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KLIKBOT_", "Microsoft", "PYTHON"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(site), **env},
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_wheel_ships_what_the_commands_read(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as package:
        names = set(package.namelist())
    assert sorted(NEEDED - names) == []
    assert not [name for name in names if "node_modules" in name]


@pytest.mark.slow
def test_manifest_build_works_from_the_installed_package(site: Path, tmp_path: Path) -> None:
    where = _installed(site, tmp_path, "--help")  # the installed copy, not the checkout, is run
    assert where.returncode == 0
    located = subprocess.run(
        [sys.executable, "-c", "import bot.manifest as m; print(m.__file__); print(m.DEFAULT_SOURCE)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        check=True,
    ).stdout.splitlines()
    assert all(Path(line).is_relative_to(site) for line in located), located

    done = _installed(
        site, tmp_path, "manifest", "build", "--app-id", APP_ID, "--domain", "klikbot.example.dk"
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "dist" / "klikbot-teams-app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]
        assert json.loads(package.read("manifest.json"))["id"] == APP_ID


@pytest.mark.slow
def test_cards_render_from_the_installed_package_names_what_is_missing(site: Path, tmp_path: Path) -> None:
    no_chromium = _installed(
        site, tmp_path, "cards", "render", KLIKBOT_CHROMIUM=str(tmp_path / "no-such-chromium")
    )
    assert no_chromium.returncode == 2
    assert no_chromium.stderr.startswith("klikbot: KLIKBOT_CHROMIUM is ")
    assert "Traceback" not in no_chromium.stderr

    # Chromium "found", npm not on the PATH and nothing in the cache: the page is copied out of
    # the installed package, and the command says npm is needed to fetch the renderer.
    cache = tmp_path / "cache"
    no_npm = _installed(
        site,
        tmp_path,
        "cards",
        "render",
        KLIKBOT_CHROMIUM=sys.executable,
        PATH=str(tmp_path / "empty"),
        XDG_CACHE_HOME=str(cache),
    )
    assert no_npm.returncode == 2
    assert no_npm.stderr.startswith("klikbot: ") and "npm" in no_npm.stderr
    assert "Traceback" not in no_npm.stderr
    renderer = cache / "klikbot" / "card-renderer"
    assert (renderer / "render.html").read_bytes() == (
        site / "bot" / "card_renderer" / "render.html"
    ).read_bytes()
    assert not (tmp_path / "dist").exists()


FAKE_NPM = """#!/bin/sh
# npm ci, as far as the gallery cares: the renderer script appears; every call is counted.
echo ci >> "$(dirname "$0")/calls"
mkdir -p node_modules/adaptivecards/dist && echo '/* renderer */' > node_modules/adaptivecards/dist/adaptivecards.min.js
"""


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package's renderer files without node_modules (as in a wheel), a fake npm on the PATH
    and an empty cache directory."""
    data = tmp_path / "card_renderer"
    data.mkdir()
    for name in [*gallery_render.PAGE_FILES, "hostconfig.microsoft-teams-light.json"]:
        (data / name).write_bytes((gallery_render.RENDERER_DATA / name).read_bytes())
    monkeypatch.setattr(gallery_render, "RENDERER_DATA", data)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "npm").write_text(FAKE_NPM)
    (tools / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return data


def test_the_first_render_installs_the_renderer_into_the_cache_once(shipped: Path, tmp_path: Path) -> None:
    said: list[str] = []
    assert gallery_render.find_renderer() is None
    directory = gallery_render.prepare_renderer(said.append)
    assert directory == tmp_path / "cache" / "klikbot" / "card-renderer"
    assert (directory / "render.html").read_bytes() == (shipped / "render.html").read_bytes()
    assert said == [f"installing the Adaptive Cards renderer with npm into {directory} (once)"]
    assert gallery_render.find_renderer() == directory
    assert gallery_render.prepare_renderer(said.append) == directory
    # Another klikbot version with a new page but the same lock file: the page is copied, npm is not run.
    (shipped / "render.js").write_text("// a newer page\n")
    assert gallery_render.find_renderer() is None
    assert gallery_render.prepare_renderer(said.append) == directory
    assert (directory / "render.js").read_text() == "// a newer page\n"
    assert (tmp_path / "bin" / "calls").read_text().split() == ["ci"]
    # A new lock file: npm ci again.
    (shipped / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    gallery_render.prepare_renderer(said.append)
    assert (tmp_path / "bin" / "calls").read_text().split() == ["ci", "ci"]


def test_a_failing_npm_is_reported_in_one_sentence(shipped: Path, tmp_path: Path) -> None:
    (tmp_path / "bin" / "npm").write_text("#!/bin/sh\necho 'npm error network ETIMEDOUT' >&2\nexit 1\n")
    with pytest.raises(
        BrowserError, match="did not install the renderer \\(exit 1\\): npm error network ETIMEDOUT"
    ):
        gallery_render.prepare_renderer()
