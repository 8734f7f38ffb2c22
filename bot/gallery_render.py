"""The card gallery: every card the bot can send, drawn by the official Adaptive Cards renderer
with Teams' host config in headless Chromium, one PNG per card plus an index.html.

`klikbot cards render [--output DIR]` runs it; the browser test uses `render_cards` to fail on
any card the renderer cannot parse or render. The page and the npm renderer live in
`tools/cards/` (run `npm ci` there); the host config is Microsoft's Teams light theme.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.chromium import BrowserError, Chromium, find_chromium

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO / "tools" / "cards"
HOST_CONFIG = REPO / "tests" / "schemas" / "hostconfig.microsoft-teams-light.json"
RENDERER_SCRIPT = Path("node_modules") / "adaptivecards" / "dist" / "adaptivecards.min.js"
DEFAULT_OUTPUT = Path("dist") / "cards"

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


def renderer_problem(tools_dir: Path = TOOLS_DIR) -> str | None:
    """Why the gallery cannot be rendered here, or None when Chromium and the renderer are in place."""
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium, or set KLIKBOT_CHROMIUM)"
    if not (tools_dir / "render.html").is_file():
        return f"{tools_dir / 'render.html'} is missing (the gallery renders from a checkout)"
    if not (tools_dir / RENDERER_SCRIPT).is_file():
        return f"the adaptivecards npm package is not installed: run `npm ci` in {tools_dir}"
    return None


async def render_cards(
    cards: Sequence[Card], *, tools_dir: Path = TOOLS_DIR, host_config: Path = HOST_CONFIG
) -> list[RenderedCard]:
    """Render each card in one browser; every problem the renderer reports is kept per card."""
    problem = renderer_problem(tools_dir)
    if problem is not None:
        raise BrowserError(problem)
    config = json.loads(await asyncio.to_thread(host_config.read_text, encoding="utf-8"))
    rendered = []
    async with Chromium() as browser:
        page = (tools_dir / "render.html").resolve().as_uri()
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


def render_gallery(now: datetime, output: Path) -> tuple[Path, list[RenderedCard]]:
    """Render every card of `dialogs.gallery` at `now` into `output`; returns index.html's path."""
    from dialogs.gallery import all_cards

    rendered = asyncio.run(render_cards(all_cards(now)))
    return write_gallery(rendered, output, now=now), rendered
