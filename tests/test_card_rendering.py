"""Every card, drawn by the official Adaptive Cards renderer (npm `adaptivecards`) with Teams' host
config in headless Chromium: a parse warning, a validation error, an exception or an empty card
fails the test.

Needs Chromium and `npm ci` in bot/card_renderer (scripts/test installs both), or the renderer a
`klikbot cards render` fetched into the cache; skipped, with the reason, where they are missing.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.gallery_render import RenderedCard, render_cards, renderer_problem, write_gallery
from dialogs.gallery import all_cards
from tests.conftest import DEMO_NOW

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARDS = all_cards(DEMO_NOW)


@pytest.fixture(scope="module")
def rendered() -> list[RenderedCard]:
    problem = renderer_problem()
    if problem is not None:
        pytest.skip(f"card rendering needs Chromium and the npm renderer: {problem}")
    return asyncio.run(render_cards(CARDS))


@pytest.mark.parametrize(("name", "lang"), [(n, lang) for n, lang, _ in CARDS], ids=lambda v: str(v))
def test_card_renders_without_warnings(rendered: list[RenderedCard], name: str, lang: str) -> None:
    card = next(c for c in rendered if (c.name, c.language) == (name, lang))
    assert card.problems == ()
    assert card.width > 100 and card.height > 40
    image = Image.open(io.BytesIO(card.png))
    assert image.format == "PNG"
    # The layout reports fractional pixels; the screenshot rounds them either way.
    assert abs(image.size[0] - card.width) <= 1 and abs(image.size[1] - card.height) <= 1
    # Something was drawn: a white card with text has more than a handful of colours.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 8


def test_the_renderer_reports_broken_cards(rendered: list[RenderedCard]) -> None:
    broken = [
        ("unknown-element", "da", {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Bogus"}]}),
        (
            "bad-value",
            "da",
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "TextBlock", "text": "x", "size": "Huge"}],
            },
        ),
        ("empty", "da", {"type": "AdaptiveCard", "version": "1.5", "body": []}),
        (
            "too-many-actions",
            "da",
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "TextBlock", "text": "x"}],
                "actions": [{"type": "Action.Submit", "title": str(i)} for i in range(7)],
            },
        ),
    ]
    results = asyncio.run(render_cards(broken))
    assert [bool(r.problems) for r in results] == [True, True, True, True]
    assert "Bogus" in results[0].problems[0]
    assert "TooManyActions" in results[3].problems[0]


def test_gallery_page_shows_every_card(rendered: list[RenderedCard], tmp_path: Path) -> None:
    index = write_gallery(rendered, tmp_path, now=DEMO_NOW)
    page = index.read_text(encoding="utf-8")
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == sorted(card.file_name for card in rendered)
    assert len(pngs) == len(CARDS)
    for name in pngs:
        assert f'src="{name}"' in page
