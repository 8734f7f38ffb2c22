"""`klikbot chat`: the same bot in a terminal, one line in, the bot's answers out."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ResourceResponse,
)

from bot.runtime import Runtime
from dialogs.cards import CARD_CONTENT_TYPE
from storage.limits import without_surrogates

QUIT = {"exit", "quit", "afslut", "farvel"}


def activity_as_text(activity: Activity) -> str:
    """Cards are shown by their text rendering (their fallbackText)."""
    parts = [activity.text] if activity.text else []
    for attachment in activity.attachments or []:
        content = attachment.content
        if attachment.content_type == CARD_CONTENT_TYPE and isinstance(content, dict):
            parts.append(str(content.get("fallbackText", "")))
    return "\n".join(p for p in parts if p)


class TerminalAdapter(BotAdapter):  # type: ignore[misc]
    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self._write = write

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.message:
                self._write(activity_as_text(activity))
            responses.append(ResourceResponse(id=uuid.uuid4().hex))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity) -> ResourceResponse:
        self._write(activity_as_text(activity))
        return ResourceResponse(id=activity.id)

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        return None

    async def process(self, activity: Activity, logic: Callable[[TurnContext], Awaitable[None]]) -> None:
        context = TurnContext(self, activity)
        await self.run_pipeline(context, logic)


async def run_chat(
    runtime: Runtime, tenant_id: str | None, user_name: str, stdin: TextIO, stdout: TextIO
) -> int:
    def write(text: str) -> None:
        stdout.write(text + "\n\n")
        stdout.flush()

    adapter = TerminalAdapter(write)
    conversation = ConversationAccount(
        id=f"terminal-{uuid.uuid4().hex[:8]}", conversation_type="personal", tenant_id=tenant_id
    )
    user = ChannelAccount(id="terminal-user", name=without_surrogates(user_name))
    bot = ChannelAccount(id="klikbot", name="klikbot")
    interactive = stdin.isatty()
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        # Undecodable bytes read as lone surrogates (POSIX locale): U+FFFD, as from Teams.
        text = without_surrogates(line.strip())
        if text.lower() in QUIT:
            break
        if not text:
            continue
        if not interactive:
            write(f"> {text}")
        activity = Activity(
            type=ActivityTypes.message,
            id=uuid.uuid4().hex,
            text=text,
            channel_id="terminal",
            conversation=conversation,
            from_property=user,
            recipient=bot,
            service_url="http://localhost",
            locale=None,
            channel_data={"tenant": {"id": tenant_id}} if tenant_id else None,
        )
        await adapter.process(activity, runtime.bot.on_turn)
    return 0


def stdio() -> tuple[TextIO, TextIO]:
    return sys.stdin, sys.stdout
