"""The time period a question talks about, in Danish or English, as a Period in Copenhagen.

Explicit dates ("31/1-2019", "1. februar", "next Friday") are parsed by dateparser; the
windows around them ("inden", "om to uger", "i næste uge", "inden udgangen af februar",
"mellem 1. og 15. februar") are ours, because dateparser returns single moments and misses
several everyday Danish phrasings. Deadlines are calendar days, so every period runs from
local midnight to local midnight, half-open.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import dateparser
from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from storage.domain import COPENHAGEN, Period, start_of_day

Language = Literal["da", "en"]

_LANGUAGES = ["da", "en"]

MONTHS: dict[str, int] = {
    "januar": 1,
    "january": 1,
    "jan": 1,
    "februar": 2,
    "february": 2,
    "feb": 2,
    "febr": 2,
    "marts": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "maj": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_SHORT_FULL_MONTHS = ("maj", "may", "juni", "juli", "june", "july")
# Standing alone, only full names count as a month: "jan" is also a name, "may" a verb.
_FULL_MONTHS = [m for m in MONTHS if len(m) > 4 or m in _SHORT_FULL_MONTHS]

WEEKDAYS: dict[str, str] = {
    "mandag": "monday",
    "tirsdag": "tuesday",
    "onsdag": "wednesday",
    "torsdag": "thursday",
    "fredag": "friday",
    "lørdag": "saturday",
    "søndag": "sunday",
    "monday": "monday",
    "tuesday": "tuesday",
    "wednesday": "wednesday",
    "thursday": "thursday",
    "friday": "friday",
    "saturday": "saturday",
    "sunday": "sunday",
}

NUMBERS: dict[str, int] = {
    "en": 1,
    "et": 1,
    "one": 1,
    "a": 1,
    "an": 1,
    "to": 2,
    "two": 2,
    "tre": 3,
    "three": 3,
    "fire": 4,
    "four": 4,
    "fem": 5,
    "five": 5,
    "seks": 6,
    "six": 6,
    "syv": 7,
    "seven": 7,
    "otte": 8,
    "eight": 8,
    "ni": 9,
    "nine": 9,
    "ti": 10,
    "ten": 10,
    "fjorten": 14,
    "fourteen": 14,
    "par": 2,
    "couple": 2,
}


def _alternation(words: list[str]) -> str:
    # Longest first, so "marts" is not read as "mar".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH = rf"(?:{_alternation(list(MONTHS))})\.?"
_FULL_MONTH = _alternation(_FULL_MONTHS)
_WEEKDAY = _alternation(list(WEEKDAYS))
_NUMBER = rf"(?:\d{{1,3}}|{_alternation(list(NUMBERS))})"
_ORDINAL = r"(?:\.|st|nd|rd|th)?"

# Anything a period could be made of. Text without such a token never reaches dateparser.
_HINT_RE = re.compile(
    rf"\d|\b(?:{_alternation(list(MONTHS))}|{_WEEKDAY}"
    r"|i\s*dag|i\s*morgen|i\s*overmorgen|overmorgen|today|tomorrow"
    r"|uge|uger|ugen|ugerne|uges|måned|måneder|måneden|dage|dagene|ultimo|primo|medio"
    r"|dag|week|weeks|month|months|day|days|påske|påsken|paaske|paasken|easter|jul|julen"
    r"|christmas|månedsskiftet|maanedsskiftet|maanedsskift|månedsskifte|month-end|foråret|forår"
    r"|spring|sommer|sommeren|summer|efteråret|efterår|autumn|fall|vinter|vinteren|winter"
    r"|år|året|year|resten|rest|remainder|kvartal|quarter|q[1-4]|fortnight|ud)\b"
)

# --- a single anchor: a day, a week or a month -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Window:
    """Calendar days [first, stop); `day` when it names one single day."""

    first: date
    stop: date
    day: bool


# Years a question can mean. Beyond them ("januar 0001", "9999-12-31") a window would reach the
# calendar's edge, where shifting it to UTC or back a day overflows.
_YEARS = range(1900, 3000)


def _plausible(window: _Window) -> bool:
    return window.first.year in _YEARS and window.stop.year in _YEARS


def _one_day(d: date) -> _Window:
    return _Window(d, d + timedelta(days=1), day=True)


def _week_of(d: date) -> _Window:
    monday = d - timedelta(days=d.weekday())
    return _Window(monday, monday + timedelta(days=7), day=False)


def _month_of(year: int, month: int) -> _Window:
    first = date(year, month, 1)
    return _Window(first, first + relativedelta(months=1), day=False)


def _next_month_named(month: int, today: date) -> _Window:
    """A month named without a year is its next occurrence; the current month counts."""
    year = today.year if month >= today.month else today.year + 1
    return _month_of(year, month)


def _parse(candidate: str, now: datetime) -> date | None:
    # Only the day of "now" matters for a date, so answers are cached per (text, day): the same
    # few phrasings come back all day, and dateparser takes most of a millisecond each time.
    return _parse_on_day(candidate, now.astimezone(COPENHAGEN).date())


@functools.lru_cache(maxsize=2048)
def _parse_on_day(candidate: str, day: date) -> date | None:
    settings: dict[str, Any] = {
        "DATE_ORDER": "DMY",
        "TIMEZONE": "Europe/Copenhagen",
        "RETURN_AS_TIMEZONE_AWARE": True,
        # Noon keeps the base on the same calendar day whatever the clock and DST do.
        "RELATIVE_BASE": datetime.combine(day, time(12, 0), tzinfo=COPENHAGEN),
        "PREFER_DATES_FROM": "future",
    }
    try:
        parsed = dateparser.parse(candidate, languages=_LANGUAGES, settings=settings)
    except Exception:  # a library bug on odd input must not take the conversation down
        return None
    if not isinstance(parsed, datetime):
        return None
    return parsed.astimezone(COPENHAGEN).date()


def _parse_day_month(candidate: str, now: datetime, has_year: bool) -> date | None:
    parsed = _parse(candidate, now)
    if parsed is None or has_year:
        return parsed
    # dateparser's "future" skips today ("23/1" on 23 January is next year): today is meant.
    today = now.astimezone(COPENHAGEN).date()
    try:
        earlier = parsed.replace(year=parsed.year - 1)
    except ValueError:  # 29 February
        return parsed
    return earlier if earlier >= today else parsed


_ISO_RE = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
# 31/1, 31/1-2019, 31.1.2019, 5/2-19, 28/1 2019
_NUMERIC_RE = re.compile(
    r"(?<![\d/.])(?<!kl\. )(?<!kl )(?P<d>[0-3]?\d)[/.](?P<m>[01]?\d)"
    r"(?:[-/.](?P<y>\d{4}|\d{2})|\s(?P<y2>(?:19|20)\d{2}))?(?![\d/])"
)
# 1. februar, 1 Feb, 1st of February, 15. februar 2019
_DAY_MONTH_RE = re.compile(
    rf"\b(?P<d>[0-3]?\d){_ORDINAL}\s*(?:of\s+)?(?P<mon>{_MONTH})(?![a-zæøå])"
    r"(?:,?\s*(?P<y>\d{4})\b)?"
)
# February 1st, jan 31, May 1, 2019
_MONTH_DAY_RE = re.compile(
    rf"\b(?P<mon>{_MONTH})\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?![.:/]\d)"
    r"(?:,?\s*(?P<y>\d{4})\b)?"
)
_WEEKDAY_RE = re.compile(
    r"\b(?:(?P<mod>næste|next|kommende|sidste|forrige|last|this|denne|på|on)\s+)?"
    rf"(?P<wd>{_WEEKDAY})\b"
)
_TODAY_RE = re.compile(r"\b(?:i\s*dag|today)\b")
_TOMORROW_RE = re.compile(r"\b(?:i\s*morgen|tomorrow)\b")
_DAY_AFTER_RE = re.compile(r"\b(?:i\s*overmorgen|overmorgen|the\s+day\s+after\s+tomorrow)\b")
_WEEK_RE = re.compile(
    r"\b(?P<which>næste|kommende|next|(?:the\s+)?coming|denne|den\s+her|this|current|indeværende"
    r"|sidste|forrige|last)\s+(?:uge|week)\b"
)
_WEEK_NUMBER_RE = re.compile(r"\b(?:uge|week|wk)\s*(?P<n>[1-5]?\d)\b(?![/.]\d)")
# "torsdag i næste uge", "thursday next week", "næste uges torsdag", "fredag i uge 5"
_WEEKDAY_OF_WEEK_RE = re.compile(
    rf"\b(?P<wd>{_WEEKDAY})(?:en)?\s+(?:i\s+|in\s+|of\s+)?(?:the\s+)?"
    r"(?:(?P<which>næste|kommende|next|coming|denne|this|sidste|forrige|last)\s+(?:uge|week)"
    r"|(?:uge|week)\s*(?P<n>[1-5]?\d))\b"
    rf"|\b(?P<which2>næste|kommende|denne|sidste|forrige)\s+uges\s+(?P<wd2>{_WEEKDAY})\b"
)
# Easter and Christmas as programme leaders plan by them: the holiday's days.
_HOLIDAY_RE = re.compile(r"\b(?P<h>påske|påsken|paaske|paasken|easter|jul|julen|christmas)\b")
_SEASON_RE = re.compile(
    r"\b(?:i\s+|in\s+(?:the\s+)?|this\s+|til\s+|om\s+)?(?P<s>foråret|forår|spring|sommeren|sommer|summer"
    r"|efteråret|efterår|autumn|fall|vinteren|vinter|winter)\b"
)
_YEAR_RE = re.compile(r"\b(?:i\s+år|this\s+year|(?:i|in|during)\s+(?P<y>(?:19|20)\d{2}))\b")
# "primo februar": the first days of the month, "medio" its middle
_PART_OF_MONTH_RE = re.compile(rf"\b(?P<part>primo|medio|early|mid|midt\s+i)\s+(?P<mon>{_MONTH})(?![a-zæøå])")
_MONTH_REL_RE = re.compile(
    r"\b(?P<which>næste|kommende|next|(?:the\s+)?coming|denne|den\s+her|this|current|indeværende"
    r"|sidste|forrige|last)\s+(?:måned|month)\b"
)
_MONTH_NAME_RE = re.compile(
    rf"(?P<pre>\b(?:in|by|before|after|until|of|during|i|inden|før|efter)\s+)?"
    rf"\b(?P<mon>{_FULL_MONTH})\b(?:\s+(?P<y>\d{{4}})\b)?"
    # After a preposition an abbreviation is a month too: "in feb", "i okt."
    rf"|(?P<pre2>\b(?:in|by|before|after|until|during|i|inden|før|efter)\s+)(?P<mon2>{_MONTH})(?![a-zæøå])"
)
# "1. kvartal", "Q1", "first quarter", "i andet kvartal"
_QUARTER_RE = re.compile(
    r"\b(?:(?P<n>[1-4])\.?\s*kvartal|q(?P<q>[1-4])|(?P<word>første|andet|tredje|fjerde|first|second|third|fourth)\s+(?:kvartal|quarter))\b"
)
_QUARTER_WORDS = {"første": 1, "first": 1, "andet": 2, "second": 2, "tredje": 3, "third": 3, "fjerde": 4, "fourth": 4}

_NEXT_WORDS = frozenset({"næste", "kommende", "next", "coming", "the coming"})
_LAST_WORDS = frozenset({"sidste", "forrige", "last"})


def _shift(which: str) -> int:
    if which in _NEXT_WORDS:
        return 1
    return -1 if which in _LAST_WORDS else 0


Resolver = Callable[["re.Match[str]", datetime, date], "_Window | None"]


def _iso(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    d = _parse(m.group(0), now)
    return _one_day(d) if d else None


def _numeric(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    day, month = int(m["d"]), int(m["m"])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None  # a time ("10.30") or a version number, not a date
    year = m["y"] or m["y2"]
    candidate = f"{day}/{month}" + (f"/{year}" if year else "")
    d = _parse_day_month(candidate, now, has_year=bool(year))
    return _one_day(d) if d else None


def _textual(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    if not 1 <= int(m["d"]) <= 31:
        return None
    month = m["mon"].rstrip(".")
    candidate = f"{int(m['d'])} {month}" + (f" {m['y']}" if m["y"] else "")
    d = _parse_day_month(candidate, now, has_year=bool(m["y"]))
    return _one_day(d) if d else None


_WEEKDAY_MODIFIERS = {"sidste": "last", "forrige": "last", "last": "last", "this": "this"}


def _weekday(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    # dateparser knows "next friday" and "last friday" but not "næste fredag": say it in English.
    modifier = _WEEKDAY_MODIFIERS.get(m["mod"] or "", "")
    d = _parse(f"{modifier} {WEEKDAYS[m['wd']]}".strip(), now)
    return _one_day(d) if d else None


def _today(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    return _one_day(today)


def _tomorrow(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    return _one_day(today + timedelta(days=1))


def _day_after(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    return _one_day(today + timedelta(days=2))


def _week(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    return _week_of(today + timedelta(weeks=_shift(m["which"])))


def _week_number(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    number = int(m["n"])
    iso_year = today.isocalendar().year
    for year in (iso_year, iso_year + 1):
        try:
            window = _week_of(date.fromisocalendar(year, number, 1))
        except ValueError:  # week 53 in a year without one
            continue
        if window.stop > today:
            return window
    return None


def _weekday_of_week(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    weekday = WEEKDAYS[m["wd"] or m["wd2"]]
    index = list(dict.fromkeys(WEEKDAYS.values())).index(weekday)
    if m["n"]:
        week = _week_number(m, now, today)
    else:
        week = _week_of(today + timedelta(weeks=_shift(m["which"] or m["which2"])))
    return None if week is None else _one_day(week.first + timedelta(days=index))


def _holiday(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    """Easter: Maundy Thursday to Easter Monday; Christmas: 24 to 26 December. The next one."""
    for year in (today.year, today.year + 1):
        if m["h"].startswith(("p", "e")):
            sunday = easter(year)
            window = _Window(sunday - timedelta(days=3), sunday + timedelta(days=2), day=False)
        else:
            window = _Window(date(year, 12, 24), date(year, 12, 27), day=False)
        if window.stop > today:
            return window
    return None


_SEASONS = {"forår": 3, "spring": 3, "sommer": 6, "summer": 6, "efterår": 9, "autumn": 9, "fall": 9}


def _season(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    name = m["s"].removesuffix("et").removesuffix("en")
    first_month = _SEASONS.get(name, 12)
    year = today.year
    first = date(year, first_month, 1)
    if first_month == 12 and today.month <= 2:
        first = date(year - 1, 12, 1)
    window = _Window(first, first + relativedelta(months=3), day=False)
    if window.stop <= today:
        window = _Window(first.replace(year=year + 1), first.replace(year=year + 1) + relativedelta(months=3), False)
    return window


def _year(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    year = int(m["y"]) if m["y"] else today.year
    return _Window(date(year, 1, 1), date(year + 1, 1, 1), day=False)


def _part_of_month(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    window = _next_month_named(MONTHS[m["mon"].rstrip(".")], today)
    part = m["part"]
    if part in ("primo", "early"):
        return _Window(window.first, window.first + timedelta(days=10), day=False)
    return _Window(window.first + timedelta(days=10), window.first + timedelta(days=20), day=False)


def _month_rel(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    first = today.replace(day=1) + relativedelta(months=_shift(m["which"]))
    return _month_of(first.year, first.month)


def _month_name(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    if m["mon2"]:
        if m["mon2"] == "jul":
            return None  # "inden jul" is Christmas, not July
        return _next_month_named(MONTHS[m["mon2"].rstrip(".")], today)
    if m["mon"] == "may" and not (m["pre"] or m["y"]):
        return None  # "may I ask ..."
    month = MONTHS[m["mon"]]
    return _month_of(int(m["y"]), month) if m["y"] else _next_month_named(month, today)


def _quarter(m: re.Match[str], now: datetime, today: date) -> _Window | None:
    n = int(m["n"] or m["q"]) if (m["n"] or m["q"]) else _QUARTER_WORDS[m["word"]]
    first = date(today.year, 3 * n - 2, 1)
    return _Window(first, first + relativedelta(months=3), day=False)


# Most specific first: "1. februar" is a day before "februar" is a month.
_ANCHORS: tuple[tuple[re.Pattern[str], Resolver], ...] = (
    (_ISO_RE, _iso),
    (_NUMERIC_RE, _numeric),
    (_DAY_MONTH_RE, _textual),
    (_MONTH_DAY_RE, _textual),
    (_DAY_AFTER_RE, _day_after),
    (_TODAY_RE, _today),
    (_TOMORROW_RE, _tomorrow),
    (_WEEKDAY_OF_WEEK_RE, _weekday_of_week),
    (_WEEK_RE, _week),
    (_WEEK_NUMBER_RE, _week_number),
    (_MONTH_REL_RE, _month_rel),
    (_WEEKDAY_RE, _weekday),
    (_PART_OF_MONTH_RE, _part_of_month),
    (_MONTH_NAME_RE, _month_name),
    (_HOLIDAY_RE, _holiday),
    (_QUARTER_RE, _quarter),
    (_SEASON_RE, _season),
    (_YEAR_RE, _year),
)


def _anchor(text: str, now: datetime, today: date, *, at_start: bool = False) -> tuple[_Window, int] | None:
    """The first anchor found (or the one the text starts with) and where it starts."""
    for pattern, resolve in _ANCHORS:
        matches = [pattern.match(text)] if at_start else pattern.finditer(text)
        for m in matches:
            if m is None:
                continue
            try:
                window = resolve(m, now, today)
            except (OverflowError, ValueError):  # at the calendar's edge ("9999-12-31"): no date
                continue
            if window is not None and not _plausible(window):
                continue
            if window is not None:
                # "i marts": the qualifier before "i" ("inden i marts") must stay visible.
                if pattern is _MONTH_NAME_RE and (m["pre"] or m["pre2"]):
                    return window, m.start("mon") if m["pre"] else m.start("mon2")
                return window, m.start()
    return None


# --- phrasings around the anchor ------------------------------------------------------------

_BETWEEN_RE = re.compile(
    r"\b(?:mellem|between|fra|from)\s+(?:den\s+|d\.\s*|the\s+)?(?P<a>.{1,30}?)\s*"
    r"(?:\s(?:og|and|til|to|until)|\s[-–])\s+(?:den\s+|d\.\s*|the\s+)?(?P<b>.{1,40})"
)
_DAY_RANGE_RE = re.compile(
    r"\b(?P<a>[0-3]?\d)\.?\s*(?:-|–|til|to)\s*"
    rf"(?P<b>[0-3]?\d{_ORDINAL}\s*(?:of\s+)?{_MONTH}.*)"
)
_BARE_DAY_RE = re.compile(r"(?P<d>[0-3]?\d)(?:\.|st|nd|rd|th)?")
_SPAN_RE = re.compile(
    r"\b(?:om|inden\s+for|indenfor|inden|i\s+løbet\s+af|de\s+næste|de\s+kommende|i\s+de\s+næste"
    r"|i\s+de\s+kommende|within|in\s+the\s+next|in\s+the\s+coming|over\s+the\s+next|the\s+next"
    r"|the\s+coming|next|in|for\s+the\s+next)\s+"
    rf"(?:the\s+next\s+|de\s+næste\s+)?(?P<n>{_NUMBER})\s+"
    r"(?P<unit>dage|dagene|dag|days|day|uger|ugerne|uge|weeks|week|måneder|måned|months|month)\b"
)
_END_OF_RE = re.compile(
    r"\b(?:(?:ved\s+)?udgangen\s+af|slutningen\s+af|(?:the\s+)?end\s+of|ultimo)\s+(?:the\s+)?"
)
# "inden månedsskiftet", "by month end": the end of this month
_MONTH_CHANGE_RE = re.compile(
    r"\b(?:månedsskiftet|maanedsskiftet|månedsskifte|maanedsskifte|month[\s-]end|the\s+turn\s+of\s+the\s+month"
    r"|end\s+of\s+(?:this|the)\s+month|månedens\s+udgang|månedens\s+slutning)\b"
)
# "resten af januar", "the rest of the week": from today to the end of it
_REST_RE = re.compile(r"\b(?:resten\s+af|(?:the\s+)?rest\s+of|(?:the\s+)?remainder\s+of)\s+(?:the\s+)?")
_LEADING_MONTH_RE = re.compile(rf"(?P<mon>{_MONTH})(?![a-zæøå])(?:\s+(?P<y>\d{{4}})\b)?")
_END_OF_CURRENT_RE = re.compile(r"(?P<unit>måneden|month|ugen|week)\b")
_BEFORE_RE = re.compile(
    r"\b(?P<q>inden|før|senest|indtil|til\s+og\s+med|frem\s+til|by|before|until|till"
    r"|no\s+later\s+than|not\s+later\s+than)\s+(?:(?:den|d\.|the|on|i|in)\s+)?$"
    # "inden vi går på vinterferie i uge 7": before a clause that ends with the date
    r"|\b(?P<q2>inden|før|before)\s+(?:vi|jeg|we|i|de|they)\s+(?:\S+\s+){1,4}(?:i|in|på|on)\s+$"
)
_AFTER_RE = re.compile(r"\b(?P<q>efter|after|fra\s+og\s+med|from)\s+(?:(?:den|d\.|the|on|i|in)\s+)?$")
# "senest i februar" holds all of February; "inden februar" ends when February begins.
_INCLUSIVE = frozenset(
    {"senest", "indtil", "til og med", "frem til", "until", "till", "no later than", "not later than"}
)


def _period(first: date | None, stop: date | None) -> Period:
    return Period(
        start_of_day(first) if first is not None else None,
        start_of_day(stop) if stop is not None else None,
    )


def _between(text: str, now: datetime, today: date) -> Period | None:
    for m in (*_DAY_RANGE_RE.finditer(text), *_BETWEEN_RE.finditer(text)):
        found_b = _anchor(m["b"], now, today, at_start=True)
        if found_b is None:
            continue
        last = found_b[0]
        bare = _BARE_DAY_RE.fullmatch(m["a"].strip())
        if bare is not None:
            try:
                first = last.first.replace(day=int(bare["d"]))
            except ValueError:
                continue
        else:
            found_a = _anchor(m["a"].strip(), now, today, at_start=True)
            if found_a is None:
                continue
            first = found_a[0].first
        if first < last.stop:
            return _period(first, last.stop)
    return None


# "i april og maj", "februar og marts", "May to June": both months whole
_MONTHS_RE = re.compile(
    rf"\b(?P<a>{_FULL_MONTH})\s+(?:og|and|til|to|-|–)\s+(?P<b>{_FULL_MONTH})\b(?:\s+(?P<y>\d{{4}})\b)?"
)


def _months(text: str, now: datetime, today: date) -> Period | None:
    m = _MONTHS_RE.search(text)
    if m is None:
        return None
    first = _next_month_named(MONTHS[m["a"]], today) if not m["y"] else _month_of(int(m["y"]), MONTHS[m["a"]])
    last = _month_of(first.first.year + (MONTHS[m["b"]] < MONTHS[m["a"]]), MONTHS[m["b"]])
    return _period(first.first, last.stop)


_FORTNIGHT_RE = re.compile(r"\b(?:the\s+)?(?:next|coming|following)\s+fortnight\b|\bwithin\s+a\s+fortnight\b")


def _span(text: str, now: datetime, today: date) -> Period | None:
    if _FORTNIGHT_RE.search(text):
        return _period(today, today + timedelta(days=15))
    m = _SPAN_RE.search(text)
    if m is None:
        return None
    n = int(m["n"]) if m["n"].isdigit() else NUMBERS[m["n"]]
    unit = m["unit"]
    if unit.startswith(("dag", "day")):
        last = today + timedelta(days=n)
    elif unit.startswith(("uge", "week")):
        last = today + timedelta(weeks=n)
    else:
        last = today + relativedelta(months=n)
    return _period(today, last + timedelta(days=1))


def _end_of(text: str, now: datetime, today: date) -> Period | None:
    for m in _END_OF_RE.finditer(text):
        rest = text[m.end() :]
        current = _END_OF_CURRENT_RE.match(rest)
        if current is not None:
            week = current["unit"] in ("ugen", "week")
            window = _week_of(today) if week else _month_of(today.year, today.month)
            return _period(None, window.stop)
        named = _LEADING_MONTH_RE.match(rest)
        if named is not None:
            # "end of Feb": abbreviations count here, where only a month can follow.
            month = MONTHS[named["mon"].rstrip(".")]
            try:
                window = _month_of(int(named["y"]), month) if named["y"] else _next_month_named(month, today)
            except (OverflowError, ValueError):  # "end of December 9999": no such month end
                continue
            if _plausible(window):
                return _period(None, window.stop)
            continue
        found = _anchor(rest, now, today, at_start=True)
        if found is not None:
            return _period(None, found[0].stop)
    return None


_MONTH_OUT_RE = re.compile(rf"\b(?P<mon>{_FULL_MONTH})\s+ud\b|\b(?:måneden|ugen)\s+ud\b")


def _rest_of(text: str, now: datetime, today: date) -> Period | None:
    out = _MONTH_OUT_RE.search(text)
    if out is not None:
        # "januar ud", "måneden ud": from today to its end
        if out["mon"]:
            window = _next_month_named(MONTHS[out["mon"]], today)
        elif out[0].startswith("ugen"):
            window = _week_of(today)
        else:
            window = _month_of(today.year, today.month)
        return _period(max(today, window.first), window.stop)
    m = _REST_RE.search(text)
    if m is None:
        return None
    rest = text[m.end() :]
    current = _END_OF_CURRENT_RE.match(rest)
    if current is not None:
        week = current["unit"] in ("ugen", "week")
        window = _week_of(today) if week else _month_of(today.year, today.month)
    elif (named := _LEADING_MONTH_RE.match(rest)) is not None:
        window = _next_month_named(MONTHS[named["mon"].rstrip(".")], today)
    elif re.match(r"(?:året|year)\b", rest):
        window = _Window(date(today.year, 1, 1), date(today.year + 1, 1, 1), day=False)
    else:
        return None
    return _period(max(today, window.first), window.stop)


def _month_change(text: str, now: datetime, today: date) -> Period | None:
    m = _MONTH_CHANGE_RE.search(text)
    if m is None:
        return None
    after = _AFTER_RE.search(text[: m.start()])
    end = _month_of(today.year, today.month).stop
    return _period(end, None) if after is not None else _period(None, end)


def _qualified(text: str, now: datetime, today: date) -> Period | None:
    found = _anchor(text, now, today)
    if found is None:
        return None
    window, position = found
    before = text[:position]
    if (q := _BEFORE_RE.search(before)) is not None:
        if q["q2"]:
            return _period(None, window.first)  # before it begins
        inclusive = window.day or " ".join(q["q"].split()) in _INCLUSIVE
        return _period(None, window.stop if inclusive else window.first)
    if (q := _AFTER_RE.search(before)) is not None:
        # "efter 1. februar" starts the day after; "fra og med"/"from" includes the day itself.
        return _period(window.stop if q["q"] in ("efter", "after") else window.first, None)
    return _period(window.first, window.stop)


_STEPS = (_between, _months, _span, _rest_of, _month_change, _end_of, _qualified)


def has_date_words(text: str) -> bool:
    """Whether the text could name a period at all: the cheap gate before any parsing."""
    return _HINT_RE.search(text.lower()) is not None


def find_period(text: str, now: datetime, language: Language) -> Period | None:
    """The time window the text names, or None. `now` is aware; periods are in Copenhagen.

    `language` is accepted for callers that know it; both languages are always understood,
    since Danish users mix in English words and the other way round.
    """
    text = " ".join(text.lower().split())
    if not text or not has_date_words(text):
        return None
    today = now.astimezone(COPENHAGEN).date()
    for step in _STEPS:
        period = step(text, now, today)
        if period is not None:
            return period
    return None


def warm_up() -> None:
    """Load dateparser's language data now rather than during the first user's question."""
    _parse("1. februar 2019", datetime(2019, 1, 23, 10, tzinfo=COPENHAGEN))
