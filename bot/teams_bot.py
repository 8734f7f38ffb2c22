"""The Teams activity handler: turns activities into the bot's own types and back."""

from __future__ import annotations

import logging

import aiohttp
from botbuilder.core import BotAdapter, ConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import ChannelAccount

from bot.activities import tenant_of, to_activity, to_incoming
from bot.bot_connector import BotConnectorClient, ConnectorError, team_member_count
from dialogs.conversation import Conversation, to_reply
from dialogs.model import Memory
from dialogs.understanding import detect_language
from dialogs.welcome import welcome_answer

log = logging.getLogger(__name__)

# Microsoft's guidance: do not send a welcome message into teams with more than 100 members.
MAX_TEAM_SIZE_FOR_WELCOME = 100


class KlikBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, conversation: Conversation, conversation_state: ConversationState) -> None:
        super().__init__()
        self._conversation = conversation
        self._state = conversation_state
        self._memory = conversation_state.create_property("memory")

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        incoming = to_incoming(turn_context.activity)
        memory = Memory.from_dict(await self._memory.get(turn_context, dict))
        replies = await self._conversation.handle(incoming, memory)
        await self._memory.set(turn_context, memory.to_dict())
        for reply in replies:
            await turn_context.send_activity(to_activity(reply))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        # Teams announces an install with installationUpdate (handled above); the Emulator and
        # Web Chat only with conversationUpdate.
        if turn_context.activity.channel_id == "msteams":
            return
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added or []):
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        conversation_type = getattr(activity.conversation, "conversation_type", None)
        if conversation_type == "channel" and await self._team_too_large(turn_context):
            return
        lang = detect_language("", activity.locale)
        async with self._conversation.reading() as db:
            asker = await self._conversation.asker(db, tenant_of(activity))
        await turn_context.send_activity(to_activity(to_reply(welcome_answer(asker, lang))))

    async def _team_too_large(self, turn_context: TurnContext) -> bool:
        activity = turn_context.activity
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        team = channel_data.get("team") if isinstance(channel_data.get("team"), dict) else {}
        team_id = team.get("id") if isinstance(team, dict) else None
        if not isinstance(team_id, str) or not team_id:
            return True
        client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if not isinstance(client, BotConnectorClient):
            return True
        try:
            count = await team_member_count(client, team_id)
        except (aiohttp.ClientError, TimeoutError, ConnectorError) as error:
            # The roster is a nicety: no welcome if it cannot be read.
            log.warning("could not read the team's size for the welcome: %s", error)
            return True
        return count is None or count > MAX_TEAM_SIZE_FOR_WELCOME
