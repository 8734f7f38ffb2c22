"""The welcome card sent when the bot is installed."""

from __future__ import annotations

from dialogs.answers import PROGRAMME_MAILBOX, example_actions, say
from dialogs.document import Document, Section
from dialogs.model import Asker
from dialogs.understanding import Language


def welcome_answer(asker: Asker, lang: Language) -> Document:
    if asker.municipality_name:
        who = say(
            lang,
            f"Jeg kender jer som {asker.municipality_name} Kommune.",
            f"I know you as {asker.municipality_name} Municipality.",
        )
    elif asker.is_admin:
        who = say(lang, "Du er KOMBIT-medarbejder.", "You are KOMBIT staff.")
    else:
        who = say(
            lang,
            f"Jeres organisation er ikke knyttet til en kommune endnu: skriv til {PROGRAMME_MAILBOX} for at blive registreret.",
            f"Your organisation is not linked to a municipality yet: write to {PROGRAMME_MAILBOX} to be registered.",
        )
    return Document(
        title=say(lang, "Velkommen til klikbot", "Welcome to klikbot"),
        intro=say(
            lang,
            "Jeg svarer på spørgsmål om jeres KLIK-opgaver, frister, KOMBITs møder og arrangementer og driftsforstyrrelser. Skriv bare med dine egne ord.",
            "I answer questions about your KLIK tasks, deadlines, KOMBIT's meetings and events, and incidents. Just write in your own words.",
        ),
        sections=[Section(body=who)],
        note=say(
            lang,
            "I can answer in English too: just ask in English.",
            "Jeg svarer også på dansk: spørg bare på dansk.",
        ),
        actions=example_actions(lang),
    )
