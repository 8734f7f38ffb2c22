"""Subscription commands: which conversation gets KOMBIT's incident notices and task news.

`abonner` / `subscribe` (optionally "på SAPA og BBR" / "to SAPA and BBR"), `afmeld` /
`unsubscribe`, `abonner på nyheder` / `subscribe to task news`, `afmeld nyheder` /
`unsubscribe from task news`, and `abonnement` / `subscription` (show the settings). Only these
exact forms are commands; everything else is a question for the recognizer.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from dialogs import formatting as fmt
from dialogs.answers import say
from dialogs.document import Document
from dialogs.model import Incoming
from dialogs.understanding import Language
from storage import subscriptions
from storage.subscriptions import MAX_SYSTEMS, ConversationInfo, Subscription, normalize_system

_SUBSCRIBE = re.compile(
    r"^(?P<verb>abonn[eé]r|subscribe)(?:\s+(?:på|paa|til|to|for)\b)?(?P<rest>.*)$", re.IGNORECASE
)
_UNSUBSCRIBE = re.compile(
    r"^(?:afmeld(?:\s+abonnement(?:et)?)?|stop\s+abonnement(?:et)?|unsubscribe)$", re.IGNORECASE
)
_NEWS_WORDS = r"(?:nyheder|nyhederne|nye\s+opgaver|opgavenyheder|task\s+news|new\s+tasks|news)"
_NEWS_ON = re.compile(rf"^(?:abonn[eé]r|subscribe)\s+(?:på|paa|til|to)\s+{_NEWS_WORDS}$", re.IGNORECASE)
_NEWS_OFF = re.compile(
    rf"^(?:afmeld|stop|unsubscribe(?:\s+from)?)\s+(?:abonnement\s+på\s+)?{_NEWS_WORDS}$", re.IGNORECASE
)
_SHOW = re.compile(r"^(?:(?:vis\s+)?abonnement(?:et)?|(?:show\s+)?subscription)$", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|&|\+|\bog\b|\band\b)\s*", re.IGNORECASE)
_ENGLISH = re.compile(r"^(?:subscribe|unsubscribe|show|subscription|stop\s+(?:task\s+news|new\s+tasks|news)$)", re.IGNORECASE)


def conversation_info(incoming: Incoming, lang: Language) -> ConversationInfo:
    return ConversationInfo(
        conversation_id=incoming.conversation_id,
        service_url=incoming.service_url,
        tenant_id=incoming.tenant_id,
        conversation_type=incoming.conversation_type,
        team_id=incoming.team_id,
        channel=incoming.channel_id or "msteams",
        lang=lang,
        origin=incoming.origin,
    )


def _here(incoming: Incoming, lang: Language) -> str:
    if incoming.conversation_type == "channel":
        return say(lang, "Denne kanal", "This channel")
    return say(lang, "Denne chat", "This chat")


def _systems_text(systems: tuple[str, ...], lang: Language) -> str:
    if not systems:
        return say(lang, "alle systemer", "all systems")
    names = [fmt.plain(s, 40) for s in systems]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + say(lang, " og ", " and ") + names[-1]


async def command(db: AsyncConnection, text: str, incoming: Incoming) -> Document | None:
    """The answer to a subscription command, or None when the text is not one."""
    cleaned = " ".join(text.split()).strip().rstrip(".!")
    if not cleaned or len(cleaned) > 300:
        return None
    lang: Language = "en" if _ENGLISH.match(cleaned) else "da"
    if not incoming.conversation_id or not incoming.service_url:
        return None
    now = datetime.now(UTC)
    if _SHOW.match(cleaned):
        current = await subscriptions.subscription(db, conversation_info(incoming, lang))
        news = await subscriptions.news_setting(db, incoming.conversation_id)
        return _show(current, news, incoming, lang)
    news_on, news_off = _NEWS_ON.match(cleaned), _NEWS_OFF.match(cleaned)
    if news_on or news_off:
        await subscriptions.set_news(db, conversation_info(incoming, lang), bool(news_on), now)
        await db.commit()
        return _news_answer(bool(news_on), incoming, lang)
    if _UNSUBSCRIBE.match(cleaned):
        await subscriptions.unsubscribe(db, conversation_info(incoming, lang), now)
        await db.commit()
        return Document(
            title=say(lang, "Abonnement afmeldt", "Unsubscribed"),
            intro=say(
                lang,
                f"{_here(incoming, lang)} får ikke længere KOMBITs driftsmeddelelser. Skriv \u201eabonner\u201c for at få dem igen.",
                f"{_here(incoming, lang)} no longer gets KOMBIT's incident notices. Write \u201csubscribe\u201d to get them again.",
            ),
        )
    match = _SUBSCRIBE.match(cleaned)
    if match is None:
        return None
    rest = match.group("rest").strip()
    systems: list[str] = []
    if rest:
        for part in (p for p in _SPLIT.split(rest) if p):
            name = normalize_system(part)
            if name is None:
                return _bad_system(part, lang)
            if name not in systems:
                systems.append(name)
        if len(systems) > MAX_SYSTEMS:
            return _bad_system(rest, lang)
    result = await subscriptions.subscribe(db, conversation_info(incoming, lang), systems, now)
    await db.commit()
    intro = say(
        lang,
        f"{_here(incoming, lang)} får nu KOMBITs driftsmeddelelser om {_systems_text(result.systems, lang)}.",
        f"{_here(incoming, lang)} now gets KOMBIT's incident notices about {_systems_text(result.systems, lang)}.",
    )
    if incoming.conversation_type == "channel":
        intro += say(
            lang,
            " Teamets andre kanaler får dem ikke (én kanal pr. team).",
            " The team's other channels do not (one channel per team).",
        )
    return Document(
        title=say(lang, "Abonnement på driftsmeddelelser", "Subscribed to incident notices"),
        intro=intro,
        note=say(lang, "Skriv \u201eafmeld\u201c for at stoppe.", "Write \u201cunsubscribe\u201d to stop."),
        tone="good",
    )


def _bad_system(text: str, lang: Language) -> Document:
    return Document(
        title=say(lang, "Det systemnavn kender jeg ikke", "I can't use that system name"),
        intro=say(
            lang,
            f"\u201e{fmt.plain(text, 60)}\u201c er ikke et systemnavn. Skriv fx \u201eabonner på SAPA og BBR\u201c (højst {MAX_SYSTEMS} systemer).",
            f"\u201c{fmt.plain(text, 60)}\u201d is not a system name. Write e.g. \u201csubscribe to SAPA and BBR\u201d (at most {MAX_SYSTEMS} systems).",
        ),
    )


def _news_answer(on: bool, incoming: Incoming, lang: Language) -> Document:
    here = _here(incoming, lang)
    if on:
        intro = say(
            lang,
            f"{here} får nu besked, når KOMBIT offentliggør en ny KLIK-opgave eller flytter en frist.",
            f"{here} now hears when KOMBIT publishes a new KLIK task or moves a deadline.",
        )
        if incoming.conversation_type == "channel":
            intro += say(lang, " Teamets andre kanaler får dem ikke.", " The team's other channels do not.")
        return Document(
            title=say(lang, "Nyheder om KLIK-opgaver", "KLIK task news"),
            intro=intro,
            note=say(
                lang,
                "Skriv „afmeld nyheder“ for at stoppe.",
                "Write “unsubscribe from task news” to stop.",
            ),
            tone="good",
        )
    return Document(
        title=say(lang, "Nyheder afmeldt", "Task news off"),
        intro=say(
            lang,
            f"{here} får ikke længere besked om nye KLIK-opgaver. Skriv „abonner på nyheder“ for at få dem igen.",
            f"{here} no longer hears about new KLIK tasks. Write “subscribe to task news” to get them again.",
        ),
    )


def _news_line(news: bool, lang: Language) -> str:
    if news:
        return say(
            lang,
            " Nye KLIK-opgaver og flyttede frister meldes også her („afmeld nyheder“ stopper dem).",
            " New KLIK tasks and moved deadlines are announced here too (“unsubscribe from task news” stops them).",
        )
    return say(
        lang,
        " Nye KLIK-opgaver meldes ikke her („abonner på nyheder“).",
        " New KLIK tasks are not announced here (“subscribe to task news”).",
    )


def _show(current: Subscription, news: bool, incoming: Incoming, lang: Language) -> Document:
    if current.subscribed:
        intro = say(
            lang,
            f"{_here(incoming, lang)} får KOMBITs driftsmeddelelser om {_systems_text(current.systems, lang)}.",
            f"{_here(incoming, lang)} gets KOMBIT's incident notices about {_systems_text(current.systems, lang)}.",
        )
        note = say(lang, "Skriv \u201eafmeld\u201c for at stoppe.", "Write \u201cunsubscribe\u201d to stop.")
    else:
        intro = say(
            lang,
            f"{_here(incoming, lang)} får ikke KOMBITs driftsmeddelelser.",
            f"{_here(incoming, lang)} does not get KOMBIT's incident notices.",
        )
        if current.team_channel:
            intro += say(lang, " En anden kanal i teamet får dem.", " Another channel of the team gets them.")
        note = say(
            lang,
            "Skriv \u201eabonner\u201c (eller fx \u201eabonner på SAPA\u201c) for at få dem her.",
            "Write \u201csubscribe\u201d (or e.g. \u201csubscribe to SAPA\u201d) to get them here.",
        )
    intro += _news_line(news, lang)
    return Document(title=say(lang, "Abonnement", "Subscription"), intro=intro, note=note)
