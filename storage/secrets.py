"""Secrets the bot keeps in its own database, shared by every instance."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.state_store import StateStore

_PREFIX = "klikbot:secret:"


async def shared_secret(engine: AsyncEngine, name: str) -> bytes:
    """A random 32-byte secret, created by the first instance that asks and read by the rest."""
    store = StateStore(engine)
    key = _PREFIX + name
    existing = await store.read([key])
    if key not in existing:
        # Instances starting together race: the first insert wins, the others read it.
        await store.create(key, {"value": secrets.token_hex(32)})
        existing = await store.read([key])
    return bytes.fromhex(str(existing[key].data["value"]))
