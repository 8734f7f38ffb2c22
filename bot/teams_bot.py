"""The Teams activity handler: turns activities into the bot's own types and back."""

from __future__ import annotations

import logging
from dataclasses import replace

import aiohttp
from botbuilder.core import BotAdapter, ConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, ChannelAccount
from botbuilder.schema.teams import TeamInfo

from bot import registry
from bot.activities import team_of, tenant_disagreement, tenant_of, to_incoming
from bot.bot_connector import BotConnectorClient, ConnectorError, team_member_count
from bot.reply_delivery import ReplyDelivery
from bot.state_storage import ETagConflictError
from dialogs.answers import say
from dialogs.cards import CARD_CONTENT_TYPE
from dialogs.conversation import Conversation, to_reply
from dialogs.model import Memory
from dialogs.understanding import Language, detect_language
from dialogs.welcome import welcome_answer
from storage.db import database_unavailable

log = logging.getLogger(__name__)

# Microsoft's guidance: do not send a welcome message into teams with more than 100 members.
MAX_TEAM_SIZE_FOR_WELCOME = 100
# An Action.Execute answered with an error: Teams shows its message where the card was pressed.
ERROR_CONTENT_TYPE = "application/vnd.microsoft.error"


def database_unavailable_text(lang: Language) -> str:
    """What the user is told while the database cannot be reached (it resumes by itself)."""
    return say(
        lang,
        "Beklager, jeg kan ikke nå databasen lige nu. Prøv igen om lidt.",
        "Sorry, I cannot reach the database right now. Please try again in a moment.",
    )


class KlikBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self, conversation: Conversation, conversation_state: ConversationState, replies: ReplyDelivery
    ) -> None:
        super().__init__()
        self._conversation = conversation
        self._state = conversation_state
        self._memory = conversation_state.create_property("memory")
        self.replies = replies

    async def on_turn(self, turn_context: TurnContext) -> None:
        disagreeing = tenant_disagreement(turn_context.activity)
        if disagreeing:
            # tenant_of gives None: the sender is an unknown tenant for the whole turn.
            log.warning(
                "the activity names different tenants (%s): its sender is treated as an unknown tenant",
                ", ".join(disagreeing),
            )
        with self.replies.turn(turn_context.activity):
            await self._turn(turn_context)

    async def _turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        try:
            await self._state.save_changes(turn_context)
        except ETagConflictError:
            # Another message of the same conversation was answered meanwhile (people in a
            # group chat typing at once). This turn's answers are sent and its changes are
            # committed; its dialog memory is the newer one, so it wins, and nobody is told
            # "something went wrong" about a turn that went right.
            log.info("conversation state changed during the turn; keeping this turn's")
            cached = self._state.get_cached_state(turn_context)
            if cached is not None:
                cached.state["e_tag"] = "*"
                await self._state.save_changes(turn_context, force=True)
        except Exception as error:
            if not (database_unavailable(error) and turn_context.responded):
                raise
            # The answers are sent and the turn's changes committed; only its dialog memory is
            # lost. Telling the user to "try again" now would invite a repeat.
            log.error("the database went away before the conversation state was saved: %s", error)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        incoming = to_incoming(turn_context.activity)
        memory = Memory.from_dict(await self._memory.get(turn_context, dict))
        replies = await self._conversation.handle(incoming, memory)
        await self._memory.set(turn_context, memory.to_dict())
        card_id = turn_context.activity.reply_to_id
        for reply in replies:
            # An Action.Submit from a card: show the result on that card, in place.
            await self.replies.send(turn_context, reply, replacing=card_id if reply.replaces_card else None)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Action.Execute (Universal Actions): the answer is the card's new content."""
        action = invoke_value.action  # botbuilder keeps it as the raw dict
        data = action.get("data") if isinstance(action, dict) else getattr(action, "data", None)
        if not isinstance(data, dict):
            return AdaptiveCardInvokeResponse(
                status_code=400, type="application/vnd.microsoft.error", value={"message": "no data"}
            )
        incoming = replace(to_incoming(turn_context.activity), text="", value=data)
        try:
            memory = Memory.from_dict(await self._memory.get(turn_context, dict))
            replies = await self._conversation.handle(incoming, memory)
        except Exception as error:
            if not database_unavailable(error):
                raise
            # The card stays as it was, and the user sees why nothing happened.
            log.error("card action failed: the database is unavailable: %s", error)
            lang = data.get("lang")
            if lang not in ("da", "en"):
                lang = detect_language("", turn_context.activity.locale)
            return AdaptiveCardInvokeResponse(
                status_code=503,
                type=ERROR_CONTENT_TYPE,
                value={"code": "DatabaseUnavailable", "message": database_unavailable_text(lang)},
            )
        await self._memory.set(turn_context, memory.to_dict())
        card = replies[0].card if replies else None
        for extra in replies[1:]:
            await self.replies.send(turn_context, extra)
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        async with self._conversation.reading() as db:
            await registry.remember(db, turn_context.activity)
        await self._welcome(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self._conversation.reading() as db:
            await registry.forget(db, turn_context.activity, "uninstalled")

    async def on_teams_team_deleted(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        async with self._conversation.reading() as db:
            await registry.forget_team(db, getattr(team_info, "id", None), "team deleted")

    async def on_teams_team_hard_deleted(self, team_info: TeamInfo, turn_context: TurnContext) -> None:
        await self.on_teams_team_deleted(team_info, turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_removed or []):
            async with self._conversation.reading() as db:
                await registry.forget(db, turn_context.activity, "bot removed")

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.channel_id == "msteams" and activity.channel_data is None:
            # botbuilder reads the team from Teams' channelData unguarded when members come or go.
            activity.channel_data = {}
        await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        """botbuilder first looks every added person up in the roster (through a Bot Connector
        call this client does not offer, and failing on an empty id); the bot only needs to
        know whether it was added itself, so the members go straight on."""
        await self.on_members_added_activity(members_added, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        # Teams announces an install with installationUpdate (handled above); the Emulator and
        # Web Chat only with conversationUpdate.
        if turn_context.activity.channel_id == "msteams":
            return
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added or []):
            async with self._conversation.reading() as db:
                await registry.remember(db, turn_context.activity)
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        conversation_type = getattr(activity.conversation, "conversation_type", None)
        if conversation_type == "channel" and await self._team_too_large(turn_context):
            return
        lang = detect_language("", activity.locale)
        async with self._conversation.reading() as db:
            asker = await self._conversation.asker(db, tenant_of(activity))
        await self.replies.send(turn_context, to_reply(welcome_answer(asker, lang)))

    async def _team_too_large(self, turn_context: TurnContext) -> bool:
        team_id = team_of(turn_context.activity)
        if team_id is None:
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
