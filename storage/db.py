"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from storage.limits import cap, without_surrogates

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./klikbot.db"

SessionFactory = async_sessionmaker[AsyncSession]

# Each aiosqlite connection is a thread, and threads only contend for the GIL: a few suffice.
SQLITE_POOL = 4

# PostgreSQL down or unreachable must fail a turn within seconds, never hang it (a user waits,
# and Teams gives up on a bot after 15 s). Seconds:
CONNECT_TIMEOUT = 5.0  # to open a connection (asyncpg's `timeout`)
COMMAND_TIMEOUT = 30.0  # for one statement (asyncpg's `command_timeout`; imports take seconds)
POOL_TIMEOUT = 10.0  # to wait for a free connection in the pool
HEALTH_TIMEOUT = 3.0  # for /healthz's `SELECT 1`, connecting included


class DatabaseUnavailableError(ConnectionError):
    """The database could not be reached (raised with the original error as its cause)."""


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine tuned for the bot: WAL and foreign keys on SQLite, a pool on PostgreSQL."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # Several tasks share one file: wait for the lock instead of failing at once.
        kwargs["connect_args"] = {"timeout": 30}
        kwargs.update(pool_size=SQLITE_POOL, max_overflow=0)
    else:
        # pool_pre_ping: connections left in the pool by a database that restarted are
        # replaced on checkout instead of failing the next turn.
        kwargs.update(
            pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_timeout=POOL_TIMEOUT
        )
        if parsed.get_driver_name() == "asyncpg":
            kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT, "command_timeout": COMMAND_TIMEOUT}
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        memory = engine.url.database in (None, "", ":memory:")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine, within: float = HEALTH_TIMEOUT) -> bool:
    """Whether the database answers within `within` seconds; used by /healthz."""
    try:
        async with asyncio.timeout(within), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` (or an error it was raised from) means the database cannot be reached
    now: down, restarting, unreachable, too slow, or out of connections. Such a fault passes
    by itself; anything else is a bug or bad data."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailableError | exc.OperationalError | exc.InterfaceError):
        return True
    if isinstance(error, exc.TimeoutError):  # no free connection in the pool in time
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    # asyncpg's own errors when a connection cannot be made or is lost (class names, so this
    # module does not need asyncpg for SQLite): the server is starting or shutting down,
    # an administrator ended the connection, too many connections, the connection broke.
    if type(error).__module__.startswith("asyncpg") and type(error).__name__ in _ASYNCPG_UNAVAILABLE:
        return True
    # Connecting to a stopped server gives a bare ConnectionRefusedError; an unreachable one
    # a timeout.
    return isinstance(error, OSError | TimeoutError)


_ASYNCPG_UNAVAILABLE = frozenset(
    {
        "PostgresConnectionError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ClientCannotConnectError",
        "CannotConnectNowError",
        "ConnectionRejectionError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "CrashShutdownError",
        "QueryCanceledError",
        "InterfaceError",
        "InternalClientError",
    }
)


# The modules of the database drivers, whose errors may quote the values of a statement.
_DRIVER_MODULES = ("asyncpg", "sqlite3", "aiosqlite", "psycopg")
_TABLE = re.compile(
    r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE
)


def describe_error(error: BaseException, limit: int = 300) -> str:
    """A database error for a log line, without the values it was about: its class, the
    driver's error class and the table (`IntegrityError (ForeignKeyViolationError) on table
    status_change`). SQLAlchemy's and the drivers' own messages quote the statement's parameters
    (names people typed, card payloads), so they are left out. Other errors: the class and the
    message, capped at `limit` characters."""
    name = type(error).__name__
    if isinstance(error, exc.StatementError):
        orig = error.orig
        if orig is not None:
            name += f" ({type(orig).__name__})"
        table = _TABLE.search(error.statement or "")
        return name + (f" on table {table.group(1)}" if table else "")
    if type(error).__module__.startswith(_DRIVER_MODULES):
        table_name = getattr(error, "table_name", None)
        return name + (f" on table {table_name}" if isinstance(table_name, str) and table_name else "")
    text = cap(without_surrogates(str(error)), limit)
    return f"{name}: {text}" if text else name


async def take_sqlite_write_lock(db: AsyncConnection) -> None:
    """SQLite begins a transaction at its first write and then holds the one write lock (other
    writers wait, up to the busy timeout): make that write the first statement, so what this
    transaction reads next no other process can change before it commits. No-op elsewhere."""
    if db.dialect.name == "sqlite":
        await db.execute(text("UPDATE municipality SET name = name WHERE 1 = 0"))


async def serialise(db: AsyncConnection, name: str) -> None:
    """Run the rest of this transaction alone among those that serialise on `name`: a
    transaction-scoped advisory lock on PostgreSQL, the write lock on SQLite."""
    if db.dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
    else:
        await take_sqlite_write_lock(db)
