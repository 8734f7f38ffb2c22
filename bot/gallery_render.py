"""The card gallery: every card the bot can send, drawn by the official Adaptive Cards renderer
with Teams' host config in headless Chromium, one PNG per card plus an index.html.

`klikbot cards render [--output DIR]` runs it; the browser test uses `render_cards` to fail on
any card the renderer cannot parse or render. The page, its npm lock file and the host config
(Microsoft's Teams light theme) are package data in `bot/card_renderer/`, so an installed klikbot
has them. The renderer itself (npm `adaptivecards`) is either installed next to them (`npm ci`
there, in a checkout: scripts/test does it) or, on the first `klikbot cards render`, by npm into
the user's cache directory (`cache_dir()`).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from bot.chromium import BrowserError, Chromium, find_chromium

log = logging.getLogger(__name__)

RENDERER_DATA: Traversable = resources.files("bot") / "card_renderer"
# What the page needs beside the npm packages; copied with them into the cache directory.
PAGE_FILES = ("render.html", "render.js", "package.json", "package-lock.json")
HOST_CONFIG: Traversable = RENDERER_DATA / "hostconfig.microsoft-teams-light.json"
RENDERER_SCRIPT = Path("node_modules") / "adaptivecards" / "dist" / "adaptivecards.min.js"
DEFAULT_OUTPUT = Path("dist") / "cards"
NPM_TIMEOUT = 600.0


def chromium_missing() -> str:
    configured = os.environ.get("KLIKBOT_CHROMIUM", "").strip()
    if configured:
        return f"KLIKBOT_CHROMIUM is {configured!r}, which is not a file (the Chromium executable)"
    return "Chromium is not installed (apt-get install chromium, or set KLIKBOT_CHROMIUM)"


Card = tuple[str, str, dict[str, Any]]  # name, language, Adaptive Card


@dataclass(frozen=True)
class RenderedCard:
    name: str
    language: str
    problems: tuple[str, ...]  # parse warnings, validation errors, exceptions, an empty card
    png: bytes
    width: int
    height: int

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.language}.png"


def cache_dir() -> Path:
    """Where `klikbot cards render` installs the renderer: $XDG_CACHE_HOME/klikbot/card-renderer
    (~/.cache/klikbot/card-renderer without it)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "klikbot" / "card-renderer"


def _is_current(directory: Path) -> bool:
    """The renderer is installed in `directory` and its page files are this klikbot's."""
    if not (directory / RENDERER_SCRIPT).is_file():
        return False
    try:
        return all(
            (directory / name).read_bytes() == (RENDERER_DATA / name).read_bytes() for name in PAGE_FILES
        )
    except OSError:
        return False


def find_renderer() -> Path | None:
    """A directory with the page and the installed npm renderer: klikbot's own (after `npm ci`
    there, in a checkout), else the cache directory; None when neither has it."""
    if isinstance(RENDERER_DATA, Path) and (RENDERER_DATA / RENDERER_SCRIPT).is_file():
        return RENDERER_DATA
    cached = cache_dir()
    return cached if _is_current(cached) else None


def renderer_problem() -> str | None:
    """Why the gallery cannot be rendered here (nothing is installed to find out), or None."""
    if find_chromium() is None:
        return chromium_missing()
    if find_renderer() is None:
        return (
            f"the adaptivecards npm package is not installed: run `npm ci` in {RENDERER_DATA}, "
            f"or `klikbot cards render` once (it installs it into {cache_dir()})"
        )
    return None


def prepare_renderer(notify: Callable[[str], None] = lambda _: None) -> Path:
    """The directory to render in: `find_renderer()`, else the cache directory after copying the
    page there and installing the renderer with `npm ci` (npm's registry must be reachable).
    Raises BrowserError, saying what is missing, when that cannot be done."""
    found = find_renderer()
    if found is not None:
        return found
    directory = cache_dir()
    changed = set()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in PAGE_FILES:
            data = (RENDERER_DATA / name).read_bytes()
            target = directory / name
            if not target.is_file() or target.read_bytes() != data:
                partial = target.with_name(name + ".part")
                partial.write_bytes(data)
                partial.replace(target)
                changed.add(name)
    except OSError as error:
        raise BrowserError(f"cannot write the card renderer into {directory}: {error}") from error
    if "package-lock.json" not in changed and (directory / RENDERER_SCRIPT).is_file():
        return directory  # only the page changed (another klikbot version): the renderer is the same
    npm = shutil.which("npm")
    if npm is None:
        raise BrowserError(
            "the cards are drawn by the official Adaptive Cards renderer (npm package adaptivecards), "
            f"which is not installed, and npm is not there to install it: install npm (apt-get install npm) "
            f"and run this again, or run `npm ci` in {directory} yourself"
        )
    notify(f"installing the Adaptive Cards renderer with npm into {directory} (once)")
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BrowserError(f"`npm ci` in {directory} took longer than {NPM_TIMEOUT:.0f} s") from error
    if done.returncode != 0 or not (directory / RENDERER_SCRIPT).is_file():
        said = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        raise BrowserError(
            f"`npm ci` in {directory} did not install the renderer (exit {done.returncode})"
            + (f": {said[-1].strip()}" if said else "")
        )
    return directory


async def render_cards(
    cards: Sequence[Card], *, renderer: Path | None = None, host_config: Traversable = HOST_CONFIG
) -> list[RenderedCard]:
    """Render each card in one browser; every problem the renderer reports is kept per card.
    `renderer` is the directory of the page and the npm renderer (default: `find_renderer()`)."""
    if find_chromium() is None:
        raise BrowserError(chromium_missing())
    directory = renderer or find_renderer()
    if directory is None:
        raise BrowserError(renderer_problem() or "the card renderer is not installed")
    config = json.loads(await asyncio.to_thread(host_config.read_text, encoding="utf-8"))
    rendered = []
    async with Chromium() as browser:
        page = (directory / "render.html").resolve().as_uri()
        await browser.open(page, ready="typeof window.klikbotRender === 'function' && !!window.AdaptiveCards")
        await browser.evaluate(f"window.klikbotHostConfig = {json.dumps(config)}; true")
        for name, language, card in cards:
            result = await browser.evaluate(
                f"klikbotRender({json.dumps(card, ensure_ascii=False)}, window.klikbotHostConfig)"
            )
            frame = result["frame"]
            png = await browser.screenshot(frame["x"], frame["y"], frame["width"], frame["height"])
            problems = tuple(str(p) for p in [*result["warnings"], *result["errors"]])
            for text in problems:
                log.warning("%s (%s): %s", name, language, text)
            rendered.append(
                RenderedCard(name, language, problems, png, round(frame["width"]), round(frame["height"]))
            )
    return rendered


def write_gallery(rendered: Sequence[RenderedCard], output: Path, *, now: datetime | None = None) -> Path:
    """Write one PNG per card and an index.html showing them, Danish and English side by side."""
    output.mkdir(parents=True, exist_ok=True)
    for card in rendered:
        (output / card.file_name).write_bytes(card.png)
    names = list(dict.fromkeys(card.name for card in rendered))
    languages = list(dict.fromkeys(card.language for card in rendered))
    by_key = {(card.name, card.language): card for card in rendered}
    rows = []
    for name in names:
        cells = []
        for language in languages:
            shown = by_key.get((name, language))
            if shown is None:
                cells.append("<td></td>")
                continue
            problems = "".join(f"<li>{html.escape(p)}</li>" for p in shown.problems)
            cells.append(
                f'<td><img src="{html.escape(shown.file_name)}" width="{shown.width}" height="{shown.height}" '
                f'alt="{html.escape(name)} ({html.escape(language)})">'
                + (f'<ul class="problems">{problems}</ul>' if problems else "")
                + "</td>"
            )
        rows.append(f'<tr><th id="{html.escape(name)}">{html.escape(name)}</th>{"".join(cells)}</tr>')
    heads = "".join(f"<th>{html.escape(language)}</th>" for language in languages)
    when = f" at {html.escape(now.isoformat())}" if now is not None else ""
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>klikbot card gallery</title>
<style>
  body {{ font-family: 'Segoe UI', sans-serif; background: #f5f5f5; margin: 24px; }}
  table {{ border-collapse: collapse; }}
  th, td {{ vertical-align: top; text-align: left; padding: 8px; }}
  tbody th {{ font-weight: 600; white-space: nowrap; }}
  .problems {{ color: #c4314b; max-width: 450px; }}
</style>
</head>
<body>
<h1>klikbot card gallery</h1>
<p>{len(rendered)} cards ({len(names)} kinds) as Teams' light theme shows them: the official
Adaptive Cards renderer with Microsoft's Teams host config, demo data{when}.</p>
<table>
<thead><tr><th>card</th>{heads}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
    index = output / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def render_gallery(
    now: datetime, output: Path, notify: Callable[[str], None] = lambda _: None
) -> tuple[Path, list[RenderedCard]]:
    """Render every card of `dialogs.gallery` at `now` into `output`, installing the renderer
    first where it is missing (`prepare_renderer`); returns index.html's path."""
    from dialogs.gallery import all_cards

    if find_chromium() is None:  # before npm fetches a renderer nothing could drive
        raise BrowserError(chromium_missing())
    renderer = prepare_renderer(notify)
    rendered = asyncio.run(render_cards(all_cards(now), renderer=renderer))
    return write_gallery(rendered, output, now=now), rendered
