"""The `klikbot` command: serve, chat, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from collections.abc import Sequence

from dotenv import load_dotenv

from bot.admin_commands import ADMIN_COMMANDS, add_admin_commands, run_admin_command
from bot.catalogue_commands import CATALOGUE_COMMANDS, add_catalogue_commands, run_catalogue_command
from bot.package_commands import PACKAGE_COMMANDS, add_package_commands, run_package_command
from bot.settings import Settings, SettingsError

log = logging.getLogger("klikbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klikbot", description="KOMBIT's KLIK bot for Microsoft Teams")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot's web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3978)
    serve.add_argument(
        "--demo", action="store_true", help="load the demo dataset and fix the clock at 23/1-2019 10:00"
    )

    chat = commands.add_parser("chat", help="talk to the bot in a terminal (reads a pipe too)")
    chat.add_argument(
        "--demo", action="store_true", help="load the demo dataset and fix the clock at 23/1-2019 10:00"
    )
    who = chat.add_mutually_exclusive_group()
    who.add_argument(
        "--municipality", metavar="NAME_OR_CODE", help="speak as this municipality's programme leader"
    )
    who.add_argument("--admin", action="store_true", help="speak as KOMBIT staff")
    chat.add_argument("--name", default="Programleder", help="your name in the conversation")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the schema migrations to KLIKBOT_DATABASE_URL")
    add_package_commands(commands)
    add_admin_commands(commands)
    add_catalogue_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(".env", override=False)
    args = _parser().parse_args(argv)
    # The server and migrations report what they do; the other commands print only their result.
    verbose = args.command in ("serve", "db")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env(demo=bool(getattr(args, "demo", False)))
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        if args.command == "chat":
            logging.getLogger().setLevel(logging.WARNING)
            return asyncio.run(_chat(settings, args.municipality, args.admin, args.name))
        if args.command == "db":
            from storage.migrate import upgrade

            upgrade(settings.database_url)
            print(f"database is at the latest schema: {_safe_url(settings.database_url)}")
            return 0
        if args.command in PACKAGE_COMMANDS:
            return run_package_command(args, settings)
        if args.command in ADMIN_COMMANDS:
            return run_admin_command(args, settings)
        if args.command in CATALOGUE_COMMANDS:
            return run_catalogue_command(args, settings)
    except SettingsError as error:
        print(f"klikbot: {error}", file=sys.stderr)
        return 2
    return 2


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(settings: Settings, host: str, port: int) -> int:
    from aiohttp import web

    from bot.app import create_app

    if not settings.has_credentials and not _is_loopback(host):
        raise SettingsError(
            f"refusing to listen on {host}: without MicrosoftAppId the bot runs in the Bot Framework's "
            "no-auth mode, which anyone can impersonate; set the credentials or use 127.0.0.1"
        )
    if not settings.has_credentials:
        log.warning("no MicrosoftAppId: no-auth mode, listening on loopback only (%s:%d)", host, port)
    web.run_app(create_app(settings), host=host, port=port, print=None)
    return 0


async def _chat(settings: Settings, municipality: str | None, admin: bool, name: str) -> int:
    from sqlalchemy import select

    from bot.chat import run_chat, stdio
    from bot.runtime import open_runtime
    from storage.demo import KOMBIT_TENANT_ID
    from storage.models import Tenant
    from storage.queries import find_municipality

    async with open_runtime(settings) as runtime:
        tenant_id: str | None = None
        if admin:
            tenant_id = next(iter(sorted(settings.admin_tenant_ids)), KOMBIT_TENANT_ID)
        elif municipality:
            async with runtime.engine.connect() as db:
                found = await find_municipality(db, municipality)
                if found is None:
                    raise SettingsError(f"no municipality is called {municipality!r}")
                tenant_id = await db.scalar(
                    select(Tenant.tenant_id).where(Tenant.municipality_code == found.code).limit(1)
                )
                if tenant_id is None:
                    raise SettingsError(
                        f"{found.name} has no Teams tenant mapped: add one with `klikbot tenants add`"
                    )
        stdin, stdout = stdio()
        return await run_chat(runtime, tenant_id, name, stdin, stdout)


if __name__ == "__main__":
    raise SystemExit(main())
