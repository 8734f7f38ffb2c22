"""The `klikbot` command: serve, chat, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace

from dotenv import load_dotenv

from bot.admin_commands import ADMIN_COMMANDS, add_admin_commands, run_admin_command
from bot.catalogue_commands import CATALOGUE_COMMANDS, add_catalogue_commands, run_catalogue_command
from bot.package_commands import PACKAGE_COMMANDS, add_package_commands, run_package_command
from bot.settings import Settings, SettingsError

log = logging.getLogger("klikbot")

# Where `klikbot serve` listens by default (the Bot Framework convention; CONTRACT.md).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3978


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klikbot", description="KOMBIT's KLIK bot for Microsoft Teams")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot's web server")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--admin-port",
        type=int,
        help="serve the operator API and /metrics on this port only (not on --port); default: on --port",
    )
    serve.add_argument(
        "--admin-host", default=DEFAULT_HOST, help=f"the address of --admin-port (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--demo", action="store_true", help="load the demo dataset and fix the clock at 23/1-2019 10:00"
    )
    serve.add_argument(
        "--log-format",
        choices=("json", "text"),
        help="log lines as JSON (the default, for log collectors) or text; default: KLIKBOT_LOG_FORMAT",
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
    try:
        _configure_logging(args)
        settings = Settings.from_env(demo=bool(getattr(args, "demo", False)))
        if args.command == "serve":
            return _serve(settings, args.host, args.port, args.admin_host, args.admin_port)
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


def _log_format(args: argparse.Namespace) -> str:
    """`--log-format`, else KLIKBOT_LOG_FORMAT, else JSON for the server and text for the rest."""
    chosen = getattr(args, "log_format", None) or os.environ.get("KLIKBOT_LOG_FORMAT", "").strip().lower()
    if not chosen:
        return "json" if args.command == "serve" else "text"
    if chosen not in ("json", "text"):
        raise SettingsError(f"KLIKBOT_LOG_FORMAT must be json or text: {chosen!r}")
    return chosen


def _configure_logging(args: argparse.Namespace) -> None:
    # The server and migrations report what they do; the other commands print only their result.
    level = logging.INFO if args.command in ("serve", "db") else logging.WARNING
    log_format = _log_format(args)
    if args.command == "serve" or log_format == "json":
        from bot.observability import configure_logging  # the server's imports: not for every command

        configure_logging(json=log_format == "json", level=level)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


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


def _with_public_url(settings: Settings, host: str, port: int) -> Settings:
    """KLIKBOT_PUBLIC_URL, or else the address `serve` listens on: the base of the links the bot
    sends to itself (events' calendar files)."""
    if settings.public_url:
        return settings
    if host in ("0.0.0.0", "::", ""):
        log.warning("KLIKBOT_PUBLIC_URL is not set: links in answers will point at %s, unreachable", host)
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    return replace(settings, public_url=f"http://{shown}:{port}")


def _serve(settings: Settings, host: str, port: int, admin_host: str, admin_port: int | None) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.runtime import check_credentials

    check_credentials(settings)  # before anything is logged or bound
    if not settings.has_credentials and not _is_loopback(host):
        raise SettingsError(
            f"refusing to listen on {host}: without MicrosoftAppId the bot runs in the Bot Framework's "
            "no-auth mode, which anyone can impersonate; set the credentials or use 127.0.0.1"
        )
    if admin_port is not None:
        if admin_port == port:
            raise SettingsError(f"--admin-port {admin_port} is --port: give the admin listener a port of its own")
        if not settings.has_credentials and not _is_loopback(admin_host):
            raise SettingsError(
                f"refusing to listen on {admin_host} for the operator API: without MicrosoftAppId "
                "(no-auth mode) /metrics is open, so the admin listener stays on loopback"
            )
        settings = replace(settings, admin_port=admin_port)
    if not settings.has_credentials:
        log.warning("no MicrosoftAppId: no-auth mode, listening on loopback only (%s:%d)", host, port)
    else:
        log.info(
            "Bot Framework authentication for app %s (%s); token signing keys from %s",
            settings.app_id,
            settings.app_type,
            settings.openid_metadata_url or "the public Azure cloud",
        )
        if settings.allow_emulator_tokens:
            log.warning(
                "KLIKBOT_ALLOW_EMULATOR_TOKENS is on: Bot Framework Emulator tokens are accepted, "
                "and the service URL of their activities is trusted; for local development only"
            )
    settings = _with_public_url(settings, host, port)

    def listening(*_: object) -> None:  # aiohttp calls it once every socket is bound
        log.info("listening on %s:%d: POST /api/messages", host, port)
        if admin_port is not None:
            log.info("listening on %s:%d: the operator API and /metrics", admin_host, admin_port)

    app = create_app(settings)
    # SIGTERM: turns in flight get up to 25 s to finish, within the usual 30 s grace period
    # before an orchestrator kills the process.
    if admin_port is None:
        web.run_app(app, host=host, port=port, print=listening, shutdown_timeout=25.0)
        return 0
    sockets = [_listen(host, port), _listen(admin_host, admin_port)]
    web.run_app(app, sock=sockets, print=listening, shutdown_timeout=25.0)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        raise SettingsError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


async def _chat(settings: Settings, municipality: str | None, admin: bool, name: str) -> int:
    from sqlalchemy import select

    from bot.chat import run_chat, stdio
    from bot.runtime import open_runtime
    from storage.demo import KOMBIT_TENANT_ID
    from storage.models import Tenant
    from storage.queries import find_municipality

    # The chat's links (calendar files) point at a `klikbot serve` with the default address.
    settings = _with_public_url(settings, DEFAULT_HOST, DEFAULT_PORT)
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
