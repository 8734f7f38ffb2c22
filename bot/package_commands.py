"""The CLI's `manifest build` and `cards render`: the Teams app package and the card gallery.

`bot.cli` adds these subcommands with `add_package_commands` and hands them to
`run_package_command`; the work is in `bot.manifest` and `bot.gallery_render`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings

PACKAGE_COMMANDS = frozenset({"manifest", "cards"})


def add_package_commands(commands: Any) -> None:
    """Add `manifest build` and `cards render` to the CLI's subparsers."""
    manifest = commands.add_parser("manifest", help="the Teams app package")
    manifest_commands = manifest.add_subparsers(dest="manifest_command", required=True)
    build = manifest_commands.add_parser(
        "build", help="write the Teams app package (zip) for upload to Teams"
    )
    build.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId)")
    build.add_argument("--version", help="the app version, e.g. 1.2.0 (default: klikbot's version)")
    build.add_argument(
        "--domain", help="the bot's domain for validDomains (default: the host of KLIKBOT_PUBLIC_URL)"
    )
    build.add_argument(
        "--output", type=Path, default=None, help="the zip to write (default: dist/klikbot-teams-app.zip)"
    )
    build.add_argument(
        "--source",
        type=Path,
        default=None,
        help="a template directory instead of the one klikbot ships (bot/teams_app)",
    )

    cards = commands.add_parser("cards", help="the cards the bot sends")
    cards_commands = cards.add_subparsers(dest="cards_command", required=True)
    render = cards_commands.add_parser(
        "render",
        help="draw every card, Danish and English, as Teams shows them (headless Chromium): PNGs and index.html",
    )
    render.add_argument(
        "--output", type=Path, default=None, help="the gallery directory (default: dist/cards)"
    )


def run_package_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "manifest":
        return _build_manifest(args, settings)
    return _render_cards(args, settings)


def _build_manifest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.manifest import DEFAULT_OUTPUT, DEFAULT_SOURCE, ManifestError, build_package, values_from

    try:
        values = values_from(
            app_id=args.app_id if args.app_id is not None else settings.app_id,
            version=args.version,
            domain=args.domain,
            public_url=settings.public_url,
        )
        path = build_package(values, args.output or DEFAULT_OUTPUT, args.source or DEFAULT_SOURCE)
    except ManifestError as error:
        print(f"klikbot: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} (app id {values.app_id}, version {values.version}, domain {values.domain})")
    return 0


def _render_cards(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chromium import BrowserError
    from bot.gallery_render import DEFAULT_OUTPUT, render_gallery
    from storage.demo import demo_clock

    # The gallery shows the demo dataset, so it runs on the demo's clock unless KLIKBOT_NOW says otherwise.
    now = settings.now or demo_clock()
    try:
        index, rendered = render_gallery(
            now, args.output or DEFAULT_OUTPUT, notify=lambda line: print(line, file=sys.stderr, flush=True)
        )
    except BrowserError as error:
        print(f"klikbot: {error}", file=sys.stderr)
        return 2
    failed = [card for card in rendered if card.problems]
    print(f"wrote {len(rendered)} cards to {index}")
    if failed:
        names = ", ".join(f"{card.name} ({card.language})" for card in failed)
        print(f"klikbot: the renderer reported problems with {len(failed)} cards: {names}", file=sys.stderr)
        return 1
    return 0
