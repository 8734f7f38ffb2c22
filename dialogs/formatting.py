"""Dates, times and statuses as Danish and English readers write them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from storage.domain import COPENHAGEN, TaskStatus

Language = str  # "da" or "en"; dialogs.understanding.Language is the precise type

_WEEKDAYS_DA = ("man.", "tirs.", "ons.", "tors.", "fre.", "lør.", "søn.")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def local(moment: datetime) -> datetime:
    return moment.astimezone(COPENHAGEN)


def day(value: date, lang: Language, *, weekday: bool = False, year: bool = True) -> str:
    """31/1-2019 (Danish, as KOMBIT writes it) or 31 Jan 2019."""
    if lang == "da":
        text = f"{value.day}/{value.month}" + (f"-{value.year}" if year else "")
        return f"{_WEEKDAYS_DA[value.weekday()]} {text}" if weekday else text
    text = f"{value.day} {_MONTHS_EN[value.month - 1][:3]}" + (f" {value.year}" if year else "")
    return f"{_WEEKDAYS_EN[value.weekday()]} {text}" if weekday else text


def month_name(month: int, lang: Language) -> str:
    return _MONTHS_DA[month - 1] if lang == "da" else _MONTHS_EN[month - 1]


def clock(moment: datetime, lang: Language) -> str:
    moment = local(moment)
    return f"{moment:%H.%M}" if lang == "da" else f"{moment:%H:%M}"


def slot(start: datetime, end: datetime, all_day: bool, lang: Language) -> str:
    """One occurrence: "ons. 27/2-2019 kl. 10.00-11.00", "18/3-2019 – 19/3-2019" or "Wed 27 Feb 2019, 10:00-11:00"."""
    first, last = local(start), local(end)
    if all_day:
        last_day = (
            (last - timedelta(microseconds=1)).date() if last.time() == datetime.min.time() else last.date()
        )
        if last_day == first.date():
            return day(first.date(), lang, weekday=True)
        return f"{day(first.date(), lang, weekday=True)} – {day(last_day, lang, weekday=True)}"
    when = day(first.date(), lang, weekday=True)
    if lang == "da":
        return f"{when} kl. {clock(first, lang)}-{clock(last, lang)}"
    return f"{when}, {clock(first, lang)}-{clock(last, lang)}"


def timestamp(moment: datetime, lang: Language) -> str:
    """A moment with date and time: "10/12-2018 kl. 02.21" / "10 Dec 2018 02:21"."""
    moment = local(moment)
    sep = " kl. " if lang == "da" else " "
    return f"{day(moment.date(), lang)}{sep}{clock(moment, lang)}"


def count(n: int, one: str, many: str) -> str:
    """ "1 opgave", "2 opgaver"."""
    return f"{n} {one if n == 1 else many}"


def status(value: TaskStatus | None, lang: Language) -> str:
    if value is None:
        return "–"
    return value.danish if lang == "da" else value.english


def yes_no(value: bool, lang: Language) -> str:
    if lang == "da":
        return "Ja" if value else "Nej"
    return "Yes" if value else "No"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def plain(text: str, limit: int = 80) -> str:
    """User-typed text echoed back: shortened, and with markdown characters escaped so Teams
    shows them as typed instead of formatting them."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", text)
