"""Reminder commands: turn deadline and event reminders and the weekly digest on, change and off.

Only these exact forms are commands (case, extra spaces, trailing punctuation and quotes copied
from the bot's own hint do not matter); everything else is left to the question recognizer:

- on:   "påmind os [om frister|arrangementer|møder] [3 og 1 dag før] [kl. 9]", "påmind os 3 dage før
        fristen", "slå påmindelser [om frister] til"; "remind us [about deadlines|events]
        [3 and 1 days before]", "remind us 3 days before deadlines", "turn on [deadline] reminders";
- digest: "ugentligt overblik [mandag] [kl. 8]", "weekly digest|summary|overview [on Friday] [at 9]";
- off:  "stop påmindelser [om frister]", "slå påmindelser fra", "stop ugentligt overblik",
        "stop [deadline|event] reminders", "turn off reminders", "stop weekly digest";
- show: "[vis] påmindelser", "[show] reminders", "reminder settings".

Parsing and the confirmation only; storing the settings is the caller's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from dialogs.answers import say
from dialogs.dates import WEEKDAYS
from dialogs.document import Document, Section
from dialogs.understanding import Language
from storage.reminder_rules import (
    DIGEST_HORIZON_DAYS,
    MAX_DEADLINE_DAYS,
    MAX_DEADLINE_VALUES,
    MIN_DEADLINE_DAYS,
    MISSED_DROP_DAYS,
    REGISTRATION_NOTICE_DAYS,
    ReminderSettings,
    zone,
)

Part = Literal["deadlines", "events", "digest"]
CommandAction = Literal["on", "off", "show"]

ALL_PARTS: frozenset[Part] = frozenset({"deadlines", "events", "digest"})
# "påmind os" / "turn on reminders" without saying what: the reminders proper, not the digest.
DEFAULT_ON: frozenset[Part] = frozenset({"deadlines", "events"})
STOP_HINT_DA = "Skriv \u201estop påmindelser\u201c for at stoppe."
STOP_HINT_EN = "Write \u201cstop reminders\u201d to stop."


@dataclass(frozen=True, slots=True)
class ReminderCommand:
    action: CommandAction
    parts: frozenset[Part]  # what it turns on or off; empty for "show"
    lang: Language
    days: tuple[int, ...] | None = None  # deadline reminders: days before, largest first
    weekday: int | None = None  # digest: 0 = Monday
    minute: int | None = None  # local minutes after midnight: digest time, or reminder time
    # A command in a known form with a value we cannot use ("90 dage før", "kl. 25"): the answer
    # explains, and apply() changes nothing.
    error: Literal["days", "time"] | None = None


# --- vocabulary ---------------------------------------------------------------------------------

_P = r"p(?:å|aa)"  # "påmind" typed on a keyboard without å
_US_DA = r"(?:os|mig)"
_US_EN = r"(?:us|me)"
_SEP = r"\s*(?:,|&|\bog\b|\band\b)\s*"
_DIGEST_DA = r"(?:(?:et|det)\s+)?ugentlige?t?\s+(?:overblik(?:ket)?|oversigt(?:en)?)"
_DIGEST_EN = r"(?:(?:a|the)\s+)?weekly\s+(?:digest|summary|overview)"
_PART_WORD = (
    r"(?:frister(?:ne)?|fristen|deadlines?|arrangementer(?:ne)?|møder(?:ne)?|events?|meetings?"
    rf"|begivenheder(?:ne)?|{_DIGEST_DA}|overblikket|{_DIGEST_EN}|digest)"
)
_PARTS = rf"{_PART_WORD}(?:{_SEP}{_PART_WORD})*"
_PART_NAMES: tuple[tuple[re.Pattern[str], Part], ...] = (
    (re.compile(r"frister(?:ne)?|fristen|deadlines?"), "deadlines"),
    (re.compile(r"arrangementer(?:ne)?|møder(?:ne)?|events?|meetings?|begivenheder(?:ne)?"), "events"),
    (re.compile(rf"{_DIGEST_DA}|overblikket|{_DIGEST_EN}|digest"), "digest"),
)
_NUMBERS = r"\d{1,3}(?:" + _SEP + r"\d{1,3})*"
_DAYS_BEFORE = (
    rf"(?P<days>{_NUMBERS})\s+(?:dag|dage|day|days)\s+(?:før|inden|before|ahead\s+of|prior\s+to|in\s+advance)"
)
# A time of day with its marker ("kl. 9", "klokken 14.30", "at 9am"), as reminders take it...
_AT = r"(?:kl\.?\s*|klokken\s+|at\s+)(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?\s*(?P<ampm>am|pm)?"
# ...and after a digest's weekday, where a bare "8:00" is clear enough.
_WEEKDAY_NAMES = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_WHEN = (
    rf"(?:\s+(?:(?:hver|om|på|on|every)\s+)?(?P<wd>{_WEEKDAY_NAMES})(?:en|e|s)?)?"
    r"(?:\s*,)?(?:\s+(?:kl\.?\s*|klokken\s+|at\s+)?(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?\s*(?P<ampm>am|pm)?)?"
)
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# What an on/off verb acts on: reminders (all, or about some parts), one kind, or the digest.
_TARGET_DA = (
    rf"(?:(?:alle\s+)?(?:vores\s+|mine\s+)?{_P}mindelser(?:ne)?(?:\s+om\s+(?P<parts>{_PARTS}))?"
    rf"|(?P<kind>frist|arrangements|møde){_P}mindelser(?:ne)?|(?P<digest>{_DIGEST_DA}))"
)
_TARGET_EN = (
    r"(?:(?:all\s+)?(?:the\s+|my\s+|our\s+)?(?:(?P<kind>deadline|event|meeting)\s+)?reminders"
    rf"(?:\s+(?:about|for|of)\s+(?P<parts>{_PARTS}))?|(?P<digest>{_DIGEST_EN}))"
)
_OFF_VERB_DA = r"(?:stop|stands|sluk(?:\s+for)?|afmeld|slet|fjern)"
_OFF_VERB_EN = r"(?:stop|disable|cancel|turn\s+off|switch\s+off)"
_ON_VERB_DA = r"(?:tænd(?:\s+for)?|start|aktiv[eé]r)"
_ON_VERB_EN = r"(?:turn\s+on|switch\s+on|enable|start)"

_SHOW: tuple[tuple[re.Pattern[str], Language], ...] = (
    (re.compile(rf"(?:vis\s+)?(?:vores\s+|mine\s+|jeres\s+)?{_P}mindelser(?:ne)?"), "da"),
    (re.compile(rf"hvilke\s+{_P}mindelser\s+(?:får|har)\s+(?:vi|jeg)"), "da"),
    (re.compile(rf"indstillinger\s+for\s+{_P}mindelser"), "da"),
    (re.compile(r"(?:show\s+)?(?:my\s+|our\s+|the\s+)?reminders"), "en"),
    (re.compile(r"(?:show\s+)?(?:my\s+|our\s+|the\s+)?reminder\s+settings"), "en"),
    (re.compile(r"which\s+reminders\s+(?:do\s+)?(?:we|i)\s+get"), "en"),
)
_TARGETED: tuple[tuple[re.Pattern[str], CommandAction, Language], ...] = (
    (re.compile(rf"{_OFF_VERB_DA}\s+{_TARGET_DA}"), "off", "da"),
    (re.compile(rf"slå\s+{_TARGET_DA}\s+fra"), "off", "da"),
    (re.compile(rf"slå\s+{_TARGET_DA}\s+til"), "on", "da"),
    (re.compile(rf"{_ON_VERB_DA}\s+{_TARGET_DA}"), "on", "da"),
    (re.compile(rf"{_OFF_VERB_EN}\s+{_TARGET_EN}"), "off", "en"),
    (re.compile(rf"(?:turn|switch)\s+{_TARGET_EN}\s+off"), "off", "en"),
    (re.compile(rf"{_ON_VERB_EN}\s+{_TARGET_EN}"), "on", "en"),
    (re.compile(rf"(?:turn|switch)\s+{_TARGET_EN}\s+on"), "on", "en"),
)
_STOP_REMINDING: tuple[tuple[re.Pattern[str], Language], ...] = (
    (re.compile(rf"stop\s+med\s+at\s+{_P}minde\s+{_US_DA}(?:\s+om\s+(?P<parts>{_PARTS}))?"), "da"),
    (re.compile(rf"stop\s+reminding\s+{_US_EN}(?:\s+(?:about|of)\s+(?P<parts>{_PARTS}))?"), "en"),
)
_REMIND: tuple[tuple[re.Pattern[str], Language], ...] = (
    (
        re.compile(
            rf"{_P}mind\s+{_US_DA}(?:\s+om\s+(?P<parts>{_PARTS}))?"
            rf"(?:\s+{_DAYS_BEFORE}(?:\s+(?:fristen|fristerne|frister|deadlines?))?)?(?:\s+{_AT})?"
        ),
        "da",
    ),
    (
        re.compile(
            rf"remind\s+{_US_EN}(?:\s+(?:about|of)\s+(?P<parts>{_PARTS}))?"
            rf"(?:\s+{_DAYS_BEFORE}(?:\s+(?:the\s+)?deadlines?)?)?(?:\s+{_AT})?"
        ),
        "en",
    ),
)
_DIGEST_ON: tuple[tuple[re.Pattern[str], Language], ...] = (
    (re.compile(rf"(?:slå\s+|send\s+{_US_DA}\s+)?{_DIGEST_DA}{_WHEN}(?:\s+til)?"), "da"),
    (
        re.compile(
            rf"(?:(?:turn\s+on|switch\s+on|enable|start|send\s+{_US_EN})\s+)?{_DIGEST_EN}{_WHEN}(?:\s+on)?"
        ),
        "en",
    ),
)

_QUOTES = "\"'\u201e\u201c\u201d\u00ab\u00bb\u2018\u2019`"


def _clean(text: str) -> str:
    text = " ".join(text.split()).lower()
    # Trailing punctuation, and quotes around the command (as the bot's own hint shows it).
    for _ in range(3):
        text = text.strip(_QUOTES + " ").rstrip(".!?…" + " ")
    return text


def _parts(text: str | None) -> frozenset[Part] | None:
    if text is None:
        return None
    found: set[Part] = set()
    for word in re.split(_SEP, text.strip()):
        for pattern, part in _PART_NAMES:
            if pattern.fullmatch(word):
                found.add(part)
                break
        else:
            return None
    return frozenset(found) or None


def _days(text: str | None) -> tuple[int, ...] | Literal["error"] | None:
    if text is None:
        return None
    values = {int(n) for n in re.findall(r"\d+", text)}
    if len(values) > MAX_DEADLINE_VALUES or any(
        not MIN_DEADLINE_DAYS <= n <= MAX_DEADLINE_DAYS for n in values
    ):
        return "error"
    return tuple(sorted(values, reverse=True))


def _minute(match: re.Match[str]) -> int | Literal["error"] | None:
    if match.group("h") is None:
        return None
    hour, minute = int(match.group("h")), int(match.group("m") or 0)
    ampm = match.group("ampm")
    if ampm is not None:
        if not 1 <= hour <= 12:
            return "error"
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return "error"
    return hour * 60 + minute


def _weekday(name: str | None) -> int | None:
    if name is None:
        return None
    return _ENGLISH_DAYS.index(WEEKDAYS[name])


def _target_parts(match: re.Match[str], action: CommandAction) -> frozenset[Part] | None:
    groups = match.groupdict()
    if groups.get("digest"):
        return frozenset({"digest"})
    if groups.get("kind"):
        return frozenset({"deadlines"} if groups["kind"] in ("frist", "deadline") else {"events"})
    if groups.get("parts"):
        return _parts(groups["parts"])
    # Plain "stop påmindelser" ends everything; plain "slå påmindelser til" starts the reminders.
    return ALL_PARTS if action == "off" else DEFAULT_ON


def parse(text: str) -> ReminderCommand | None:
    """The reminder command the text is, or None when it is not one of the exact forms."""
    if len(text) > 200:
        return None
    cleaned = _clean(text)
    if not cleaned:
        return None
    for pattern, lang in _SHOW:
        if pattern.fullmatch(cleaned):
            return ReminderCommand("show", frozenset(), lang)
    for targeted, action, lang in _TARGETED:
        if (m := targeted.fullmatch(cleaned)) is not None:
            parts = _target_parts(m, action)
            return None if parts is None else ReminderCommand(action, parts, lang)
    for pattern, lang in _STOP_REMINDING:
        if (m := pattern.fullmatch(cleaned)) is not None:
            parts = _parts(m.group("parts")) if m.group("parts") else ALL_PARTS
            return None if parts is None else ReminderCommand("off", parts, lang)
    for pattern, lang in _DIGEST_ON:
        if (m := pattern.fullmatch(cleaned)) is not None:
            minute = _minute(m)
            if isinstance(minute, str):
                return ReminderCommand("on", frozenset({"digest"}), lang, error="time")
            return ReminderCommand(
                "on", frozenset({"digest"}), lang, weekday=_weekday(m.group("wd")), minute=minute
            )
    for pattern, lang in _REMIND:
        if (m := pattern.fullmatch(cleaned)) is not None:
            return _remind(m, lang)
    return None


def _remind(m: re.Match[str], lang: Language) -> ReminderCommand | None:
    days = _days(m.group("days"))
    if m.group("parts"):
        parts = _parts(m.group("parts"))
        if parts is None or (days is not None and "deadlines" not in parts):
            return None  # "påmind os om møder 3 dage før": events have their own fixed notice
    else:
        # "påmind os 3 dage før fristen" is about deadlines; a bare "påmind os" about both.
        parts = frozenset({"deadlines"}) if days is not None else DEFAULT_ON
    minute = _minute(m)
    if isinstance(days, str):
        return ReminderCommand("on", parts, lang, error="days")
    if isinstance(minute, str):
        return ReminderCommand("on", parts, lang, error="time")
    return ReminderCommand("on", parts, lang, days=days, minute=minute)


def apply(settings: ReminderSettings, command: ReminderCommand) -> ReminderSettings:
    """The settings after the command; "show" and commands with an error change nothing."""
    if command.action == "show" or command.error is not None:
        return settings
    on = command.action == "on"
    parts = command.parts
    new = settings
    if "deadlines" in parts:
        new = replace(new, deadlines=on)
        if on and command.days:
            new = replace(new, deadline_days=command.days)
    if "events" in parts:
        new = replace(new, events=on)
    if "digest" in parts:
        new = replace(new, digest=on)
        if on and command.weekday is not None:
            new = replace(new, digest_weekday=command.weekday)
        if on and command.minute is not None:
            new = replace(new, digest_minute=command.minute)
    if on and command.minute is not None and parts & {"deadlines", "events"}:
        new = replace(new, send_minute=command.minute)
    return new


# --- the confirmation ---------------------------------------------------------------------------

_WEEKDAYS_DA = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(weekday: int, lang: Language) -> str:
    return _WEEKDAYS_DA[weekday] if lang == "da" else _WEEKDAYS_EN[weekday]


def clock_text(minute: int, lang: Language) -> str:
    """ "kl. 08.00" / "08:00"."""
    hours, minutes = divmod(minute, 60)
    return f"kl. {hours:02d}.{minutes:02d}" if lang == "da" else f"{hours:02d}:{minutes:02d}"


def days_text(days: tuple[int, ...], lang: Language) -> str:
    """ "7 og 1 dag" / "7 and 1 days": the unit follows the last number, as one says it."""
    numbers = [str(n) for n in days]
    joined = (
        numbers[0]
        if len(numbers) == 1
        else ", ".join(numbers[:-1]) + say(lang, " og ", " and ") + numbers[-1]
    )
    if lang == "da":
        return f"{joined} {'dag' if days[-1] == 1 else 'dage'}"
    return f"{joined} {'day' if len(days) == 1 and days[0] == 1 else 'days'}"


def _part_names(parts: frozenset[Part], lang: Language) -> str:
    names = {
        "deadlines": say(lang, "frister", "deadlines"),
        "events": say(lang, "arrangementer", "events"),
        "digest": say(lang, "ugentligt overblik", "the weekly overview"),
    }
    chosen = [names[p] for p in ("deadlines", "events", "digest") if p in parts]
    if len(chosen) == 1:
        return chosen[0]
    return ", ".join(chosen[:-1]) + say(lang, " og ", " and ") + chosen[-1]


def setting_facts(settings: ReminderSettings, lang: Language) -> list[tuple[str, str]]:
    """What is on, when, in which time zone: one fact per kind of reminder."""
    off = say(lang, "Fra", "Off")
    at = clock_text(settings.send_minute, lang)
    deadlines = off
    if settings.deadlines:
        deadlines = say(
            lang,
            f"{days_text(settings.deadline_days, lang)} før fristen {at}, og dagen efter en overskredet obligatorisk frist",
            f"{days_text(settings.deadline_days, lang)} before the deadline at {at}, and the day after a missed mandatory deadline",
        )
    events = off
    if settings.events:
        events = say(
            lang,
            f"{REGISTRATION_NOTICE_DAYS} dage før tilmeldingsfristen og dagen før arrangementet, {at}",
            f"{REGISTRATION_NOTICE_DAYS} days before registration closes and the day before the event, at {at}",
        )
    digest = off
    if settings.digest:
        when = f"{weekday_name(settings.digest_weekday, lang)} {clock_text(settings.digest_minute, lang)}"
        digest = say(
            lang,
            f"hver {when} med frister de næste {DIGEST_HORIZON_DAYS} dage, tilmeldingsfrister og driftsforstyrrelser",
            f"every {when.replace(' ', ' at ', 1)} with deadlines in the next {DIGEST_HORIZON_DAYS} days, registration deadlines and incidents",
        )
    return [
        (say(lang, "Frister", "Deadlines"), deadlines),
        (say(lang, "Arrangementer", "Events"), events),
        (say(lang, "Ugentligt overblik", "Weekly overview"), digest),
        (say(lang, "Tidszone", "Time zone"), zone(settings.time_zone).key),
    ]


def _error_answer(command: ReminderCommand, lang: Language) -> Document:
    if command.error == "days":
        return Document(
            title=say(lang, "De dage kan jeg ikke bruge", "I can't use those days"),
            intro=say(
                lang,
                f"Skriv {MIN_DEADLINE_DAYS}-{MAX_DEADLINE_DAYS} dage før fristen, højst {MAX_DEADLINE_VALUES} tal, fx \u201epåmind os om frister 7 og 1 dag før\u201c.",
                f"Give {MIN_DEADLINE_DAYS}-{MAX_DEADLINE_DAYS} days before the deadline, at most {MAX_DEADLINE_VALUES} numbers, e.g. \u201cremind us 7 and 1 days before deadlines\u201d.",
            ),
        )
    return Document(
        title=say(lang, "Det klokkeslæt kan jeg ikke bruge", "I can't use that time"),
        intro=say(
            lang,
            "Skriv et klokkeslæt mellem 00.00 og 23.59, fx \u201eugentligt overblik mandag kl. 8\u201c eller \u201ekl. 14.30\u201c.",
            "Give a time between 00:00 and 23:59, e.g. \u201cweekly digest on Monday at 8\u201d or \u201cat 14:30\u201d.",
        ),
    )


def answer(
    settings: ReminderSettings,
    command: ReminderCommand,
    here_is_channel: bool,
    lang: Language,
    *,
    has_municipality: bool = True,
) -> Document:
    """The confirmation of a command, given the settings after it (or the current ones for "show")."""
    if command.error is not None:
        return _error_answer(command, lang)
    here = (
        say(lang, "Denne kanal", "This channel") if here_is_channel else say(lang, "Denne chat", "This chat")
    )
    if command.action == "show":
        title = say(lang, "Påmindelser", "Reminders")
    elif command.action == "on":
        title = (
            say(lang, "Ugentligt overblik slået til", "Weekly overview turned on")
            if command.parts == {"digest"}
            else say(lang, "Påmindelser slået til", "Reminders turned on")
        )
    elif command.parts == {"digest"}:
        title = say(lang, "Ugentligt overblik slået fra", "Weekly overview turned off")
    elif settings.enabled:
        what = _part_names(command.parts, lang)
        title = say(lang, f"Påmindelser om {what} slået fra", f"Reminders about {what} turned off")
    else:
        title = say(lang, "Påmindelser slået fra", "Reminders turned off")
    if settings.enabled:
        intro = say(
            lang,
            f"{here} får påmindelser fra klikbot sådan her:",
            f"{here} gets reminders from klikbot like this:",
        )
        note = say(lang, STOP_HINT_DA, STOP_HINT_EN)
    else:
        intro = say(lang, f"{here} får ingen påmindelser.", f"{here} gets no reminders.")
        note = say(
            lang,
            "Skriv \u201epåmind os\u201c eller \u201eugentligt overblik mandag kl. 8\u201c for at slå dem til.",
            "Write \u201cremind us\u201d or \u201cweekly digest on Monday at 8\u201d to turn them on.",
        )
    warning = None
    if settings.deadlines and not has_municipality:
        warning = say(
            lang,
            "Jeres organisation er ikke knyttet til en kommune, så der kommer ingen påmindelser om frister; arrangementer og driftsforstyrrelser kommer.",
            "Your organisation is not linked to a municipality, so there are no deadline reminders; events and incidents still come.",
        )
    if settings.deadlines:
        note = (
            say(
                lang,
                f"Frister nævnes kun for opgaver, I ikke har fuldført, og en overskredet obligatorisk frist højst {MISSED_DROP_DAYS} dage efter. ",
                f"Deadlines are only mentioned for tasks you have not completed, and a missed mandatory one for at most {MISSED_DROP_DAYS} days. ",
            )
            + note
        )
    return Document(
        title=title,
        intro=intro,
        sections=[Section(facts=setting_facts(settings, lang), warning=warning)],
        note=note,
        tone="good" if command.action == "on" and settings.enabled else "default",
    )
