"""Async calls to the Bot Connector REST API over one shared aiohttp session.

botbuilder's TeamsInfo answers roster questions with a synchronous msrest client, which
blocks the event loop for the whole HTTP call; these calls do not.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=5)


async def authorization_headers(credentials: Any) -> dict[str, str]:
    """The bearer token the adapter's own credentials give (none in no-auth mode)."""
    if credentials is None or not getattr(credentials, "microsoft_app_id", None):
        return {}
    # MSAL caches the token; only the first call (and a refresh) goes to the network.
    token = await asyncio.to_thread(credentials.get_access_token)
    return {"Authorization": f"Bearer {token}"}


async def team_member_count(
    http: aiohttp.ClientSession, service_url: str, team_id: str, credentials: Any
) -> int | None:
    url = f"{service_url.rstrip('/')}/v3/teams/{quote(team_id, safe='')}"
    headers = await authorization_headers(credentials)
    async with http.get(url, headers=headers, timeout=TIMEOUT) as response:
        response.raise_for_status()
        details = await response.json()
    count = details.get("memberCount") if isinstance(details, dict) else None
    return int(count) if isinstance(count, int) else None
