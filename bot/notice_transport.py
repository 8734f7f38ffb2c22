"""Incident notices over the Bot Connector API, with the bot's own credentials.

Proactive sends authenticate as CloudAdapter.continue_conversation does: a ClaimsIdentity for
the bot's app id, the authentication's connector factory for it, and the originating audience.
The clients are the runtime's shared BotConnectorClients on its one aiohttp session.
"""

from __future__ import annotations

import json

import aiohttp
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

from bot.activities import to_activity
from bot.bot_connector import BotConnectorClient, ConnectorError, activity_json
from bot.broadcast import SendError
from bot.connector import SharedClientsAuthentication
from dialogs.model import Reply


class BotConnectorTransport:
    def __init__(self, authentication: SharedClientsAuthentication, app_id: str) -> None:
        identity = ClaimsIdentity(
            {AuthenticationConstants.AUDIENCE_CLAIM: app_id, AuthenticationConstants.APP_ID_CLAIM: app_id},
            True,
        )
        self._factory = authentication.create_connector_factory(identity)
        self._audience = authentication.get_originating_audience()
        # id(reply) -> (the reply, its encoded body); the reply is kept so its id is not reused.
        self._bodies: dict[int, tuple[Reply, bytes]] = {}

    async def _client(self, service_url: str) -> BotConnectorClient:
        client = await self._factory.create(service_url, self._audience)
        assert isinstance(client, BotConnectorClient)
        return client

    def _encoded(self, reply: Reply) -> bytes:
        """The notice as Bot Connector JSON, encoded once: a broadcast posts the same bytes to
        every conversation (the conversation is in the URL, not the body)."""
        cached = self._bodies.get(id(reply))
        if cached is None or cached[0] is not reply:
            if len(self._bodies) > 64:
                self._bodies.clear()
            cached = (reply, json.dumps(activity_json(to_activity(reply)), ensure_ascii=False).encode())
            self._bodies[id(reply)] = cached
        return cached[1]

    async def post(self, service_url: str, conversation_id: str, reply: Reply) -> str | None:
        try:
            client = await self._client(service_url)
            response = await client.conversations.send_to_conversation(conversation_id, self._encoded(reply))
        except ConnectorError as error:
            raise SendError(error.status, str(error), error.retry_after) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(None, f"no answer from the Bot Connector: {error!r}") from error
        return response.id or None

    async def update(self, service_url: str, conversation_id: str, activity_id: str, reply: Reply) -> None:
        activity = to_activity(reply)
        activity.id = activity_id
        try:
            client = await self._client(service_url)
            await client.conversations.update_activity(conversation_id, activity_id, activity)
        except ConnectorError as error:
            raise SendError(error.status, str(error), error.retry_after) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(None, f"no answer from the Bot Connector: {error!r}") from error

    async def reply(self, service_url: str, conversation_id: str, activity_id: str, text: str) -> None:
        activity = Activity(type=ActivityTypes.message, text=text, reply_to_id=activity_id)
        try:
            client = await self._client(service_url)
            await client.conversations.reply_to_activity(conversation_id, activity_id, activity)
        except ConnectorError as error:
            raise SendError(error.status, str(error), error.retry_after) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendError(None, f"no answer from the Bot Connector: {error!r}") from error
