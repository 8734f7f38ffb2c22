#!/usr/bin/env python3
"""Draw the Teams app icons into bot/teams_app/ (the Teams app package's template): color.png
(192×192) and outline.png (32×32).

Teams wants a full-colour icon on a solid background and an outline icon that is white on a
fully transparent background (no half-transparent edge pixels). The symbol is a tick in a
rounded frame: "klik" is the click that marks a task done.

Run it after changing the design: `.venv/bin/python scripts/make_icons.py` (needs Pillow, in the
`test` extra). The PNGs it writes are committed; the tests check that they match this script.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from PIL import Image, ImageDraw

log = logging.getLogger("make_icons")

MANIFEST_DIR = Path(__file__).resolve().parent.parent / "bot" / "teams_app"
BACKGROUND = (0, 80, 122, 255)  # #00507A, the manifest's accentColor
WHITE = (255, 255, 255, 255)
TRANSPARENT = (0, 0, 0, 0)

# The symbol on a unit square: a rounded frame and a tick, as fractions of the icon's size.
FRAME = (0.22, 0.22, 0.78, 0.78)
FRAME_RADIUS = 0.12
TICK = ((0.34, 0.51), (0.46, 0.63), (0.67, 0.38))


def _scaled(size: int, points: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    return [(x * size, y * size) for x, y in points]


def draw_color(size: int = 192, supersample: int = 4) -> Image.Image:
    """The colour icon: a white frame and tick on the accent colour, smoothed by supersampling."""
    big = size * supersample
    image = Image.new("RGBA", (big, big), BACKGROUND)
    draw = ImageDraw.Draw(image)
    box = tuple(v * big for v in FRAME)
    draw.rounded_rectangle(box, radius=FRAME_RADIUS * big, outline=WHITE, width=round(0.045 * big))
    draw.line(_scaled(big, TICK), fill=WHITE, width=round(0.075 * big), joint="curve")
    for x, y in (TICK[0], TICK[-1]):  # round caps
        r = 0.0375 * big
        draw.ellipse((x * big - r, y * big - r, x * big + r, y * big + r), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_outline(size: int = 32) -> Image.Image:
    """The outline icon: the same symbol in pure white on full transparency, without smoothing,
    so every pixel is either opaque white or fully transparent."""
    image = Image.new("RGBA", (size, size), TRANSPARENT)
    draw = ImageDraw.Draw(image)
    # A wider frame than the colour icon's: at 32 pixels the symbol needs the room.
    left, top, right, bottom = (round(v * size) for v in (0.09, 0.09, 0.91, 0.91))
    draw.rounded_rectangle(
        (left, top, right - 1, bottom - 1), radius=round(0.16 * size), outline=WHITE, width=2
    )
    tick = [(round(x * size), round(y * size)) for x, y in ((0.28, 0.52), (0.44, 0.68), (0.72, 0.34))]
    draw.line(tick, fill=WHITE, width=3)
    return image


def write_icons(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in (("color.png", draw_color()), ("outline.png", draw_outline())):
        path = directory / name
        image.save(path, format="PNG", optimize=True)
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=MANIFEST_DIR, help="directory (default: bot/teams_app/)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in write_icons(args.output):
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
