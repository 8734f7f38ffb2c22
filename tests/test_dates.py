"""The time period a question names: calendar days in Copenhagen, half-open, DST-proof."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dateparser
import pytest

import dialogs.dates as dates_module
from dialogs.dates import find_period, has_date_words, warm_up
from dialogs.understanding import Intent, understand
from storage.domain import Period

NOW = datetime.fromisoformat("2019-01-23T10:00:00+01:00")  # Wednesday of ISO week 4

Window = tuple[str | None, str | None]


def iso(period: Period | None) -> Window | None:
    if period is None:
        return None
    return (
        period.start.isoformat() if period.start else None,
        period.end.isoformat() if period.end else None,
    )


def elapsed(period: Period | None) -> timedelta:
    """Real time between start and end (aware subtraction in one zone is wall-clock time)."""
    assert period is not None
    assert period.start is not None
    assert period.end is not None
    return period.end.astimezone(UTC) - period.start.astimezone(UTC)


def day(d: str) -> Window:
    start = datetime.fromisoformat(f"{d}T00:00:00+01:00")
    return (start.isoformat(), (start + timedelta(days=1)).isoformat())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A single date is that calendar day.
        ("31/1", day("2019-01-31")),
        ("31/1-2019", day("2019-01-31")),
        ("31.1.2019", day("2019-01-31")),
        ("28/1 2019", day("2019-01-28")),
        ("5/2-19", day("2019-02-05")),
        ("5/2", day("2019-02-05")),  # Danish order: 5 February, never 2 May
        ("1. februar", day("2019-02-01")),
        ("den 1. februar 2019", day("2019-02-01")),
        ("February 1st", day("2019-02-01")),
        ("1st of February", day("2019-02-01")),
        ("1 Feb", day("2019-02-01")),
        ("2019-02-01", day("2019-02-01")),
        ("fredag", day("2019-01-25")),
        ("next Friday", day("2019-01-25")),
        ("næste fredag", day("2019-01-25")),
        ("på mandag", day("2019-01-28")),
        ("sidste fredag", day("2019-01-18")),
        ("i dag", day("2019-01-23")),
        ("idag", day("2019-01-23")),
        ("today", day("2019-01-23")),
        ("i morgen", day("2019-01-24")),
        ("tomorrow", day("2019-01-24")),
        ("i overmorgen", day("2019-01-25")),
        ("23/1", day("2019-01-23")),  # today, not next year
        # Before, by, no later than: the day itself is included.
        ("inden 1. februar", (None, "2019-02-02T00:00:00+01:00")),
        ("før den 31/1", (None, "2019-02-01T00:00:00+01:00")),
        ("senest den 28/1-2019", (None, "2019-01-29T00:00:00+01:00")),
        ("before February 1st", (None, "2019-02-02T00:00:00+01:00")),
        ("by 31/1", (None, "2019-02-01T00:00:00+01:00")),
        ("no later than 1 Feb", (None, "2019-02-02T00:00:00+01:00")),
        ("inden fredag", (None, "2019-01-26T00:00:00+01:00")),
        # After: from the next day on.
        ("efter 1. februar", ("2019-02-02T00:00:00+01:00", None)),
        ("after Feb 1", ("2019-02-02T00:00:00+01:00", None)),
        # Weeks are ISO weeks, Monday to Monday.
        ("i næste uge", ("2019-01-28T00:00:00+01:00", "2019-02-04T00:00:00+01:00")),
        ("next week", ("2019-01-28T00:00:00+01:00", "2019-02-04T00:00:00+01:00")),
        ("denne uge", ("2019-01-21T00:00:00+01:00", "2019-01-28T00:00:00+01:00")),
        ("i denne uge", ("2019-01-21T00:00:00+01:00", "2019-01-28T00:00:00+01:00")),
        ("this week", ("2019-01-21T00:00:00+01:00", "2019-01-28T00:00:00+01:00")),
        ("uge 6", ("2019-02-04T00:00:00+01:00", "2019-02-11T00:00:00+01:00")),
        ("inden næste uge", (None, "2019-01-28T00:00:00+01:00")),
        ("senest i næste uge", (None, "2019-02-04T00:00:00+01:00")),
        # N days or weeks from today: today up to and including today + N days.
        ("om to uger", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("inden for 14 dage", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("de næste to uger", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("within two weeks", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("in 2 weeks", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("in the next 10 days", ("2019-01-23T00:00:00+01:00", "2019-02-03T00:00:00+01:00")),
        ("om en uge", ("2019-01-23T00:00:00+01:00", "2019-01-31T00:00:00+01:00")),
        ("de næste tre dage", ("2019-01-23T00:00:00+01:00", "2019-01-27T00:00:00+01:00")),
        ("within one month", ("2019-01-23T00:00:00+01:00", "2019-02-24T00:00:00+01:00")),
        # Months: the next occurrence, the current month included.
        ("i marts", ("2019-03-01T00:00:00+01:00", "2019-04-01T00:00:00+02:00")),
        ("in March", ("2019-03-01T00:00:00+01:00", "2019-04-01T00:00:00+02:00")),
        ("events in March", ("2019-03-01T00:00:00+01:00", "2019-04-01T00:00:00+02:00")),
        ("februar", ("2019-02-01T00:00:00+01:00", "2019-03-01T00:00:00+01:00")),
        ("januar", ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")),
        ("december", ("2019-12-01T00:00:00+01:00", "2020-01-01T00:00:00+01:00")),
        ("in may", ("2019-05-01T00:00:00+02:00", "2019-06-01T00:00:00+02:00")),
        ("marts 2020", ("2020-03-01T00:00:00+01:00", "2020-04-01T00:00:00+02:00")),
        ("denne måned", ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")),
        ("this month", ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")),
        ("næste måned", ("2019-02-01T00:00:00+01:00", "2019-03-01T00:00:00+01:00")),
        ("next month", ("2019-02-01T00:00:00+01:00", "2019-03-01T00:00:00+01:00")),
        ("inden februar", (None, "2019-02-01T00:00:00+01:00")),
        ("senest i februar", (None, "2019-03-01T00:00:00+01:00")),
        # End of a month: up to the first of the next.
        ("inden udgangen af februar", (None, "2019-03-01T00:00:00+01:00")),
        ("by the end of February", (None, "2019-03-01T00:00:00+01:00")),
        ("end of Feb", (None, "2019-03-01T00:00:00+01:00")),
        ("ultimo februar", (None, "2019-03-01T00:00:00+01:00")),
        ("udgangen af måneden", (None, "2019-02-01T00:00:00+01:00")),
        ("end of next month", (None, "2019-03-01T00:00:00+01:00")),
        ("end of this week", (None, "2019-01-28T00:00:00+01:00")),
        # Between two days, both included.
        ("mellem 1. og 15. februar", ("2019-02-01T00:00:00+01:00", "2019-02-16T00:00:00+01:00")),
        ("between 1 and 15 February", ("2019-02-01T00:00:00+01:00", "2019-02-16T00:00:00+01:00")),
        ("1.-15. februar", ("2019-02-01T00:00:00+01:00", "2019-02-16T00:00:00+01:00")),
        ("fra 28/1-2019 til 5/2-2019", ("2019-01-28T00:00:00+01:00", "2019-02-06T00:00:00+01:00")),
        ("between today and Friday", ("2019-01-23T00:00:00+01:00", "2019-01-26T00:00:00+01:00")),
        # No period at all.
        ("hvilke opgaver mangler vi?", None),
        ("may I ask something", None),
        ("kl. 10.30", None),
        ("version 4.17.1", None),
        ("31/2", None),
        ("13/13", None),
        ("i de kommende uger", None),
        ("", None),
    ],
)
def test_period(text: str, expected: Window | None) -> None:
    assert iso(find_period(text, NOW, "da")) == expected


def test_language_does_not_restrict_the_words() -> None:
    assert iso(find_period("next week", NOW, "da")) == iso(find_period("næste uge", NOW, "en"))


def test_now_is_read_in_copenhagen() -> None:
    # 23:30 UTC on the 23rd is already the 24th in Copenhagen.
    late = datetime.fromisoformat("2019-01-23T23:30:00+00:00")
    assert iso(find_period("i dag", late, "da")) == day("2019-01-24")


# --- daylight saving time --------------------------------------------------------------------


def test_week_across_the_start_of_summer_time_runs_midnight_to_midnight() -> None:
    now = datetime.fromisoformat("2019-03-27T09:00:00+01:00")
    period = find_period("denne uge", now, "da")
    assert iso(period) == ("2019-03-25T00:00:00+01:00", "2019-04-01T00:00:00+02:00")
    assert elapsed(period) == timedelta(days=7, hours=-1)


def test_span_across_the_end_of_summer_time() -> None:
    now = datetime.fromisoformat("2019-10-20T12:00:00+02:00")
    assert iso(find_period("om to uger", now, "da")) == (
        "2019-10-20T00:00:00+02:00",
        "2019-11-04T00:00:00+01:00",
    )
    assert iso(find_period("i oktober", now, "da")) == (
        "2019-10-01T00:00:00+02:00",
        "2019-11-01T00:00:00+01:00",
    )


def test_the_short_day_of_march_is_one_calendar_day() -> None:
    period = find_period("31/3", NOW, "da")
    assert iso(period) == ("2019-03-31T00:00:00+01:00", "2019-04-01T00:00:00+02:00")
    assert elapsed(period) == timedelta(hours=23)


# --- the turn of the year --------------------------------------------------------------------

DECEMBER = datetime.fromisoformat("2018-12-10T10:00:00+01:00")


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("januar", DECEMBER, ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")),
        ("december", DECEMBER, ("2018-12-01T00:00:00+01:00", "2019-01-01T00:00:00+01:00")),
        ("næste måned", DECEMBER, ("2019-01-01T00:00:00+01:00", "2019-02-01T00:00:00+01:00")),
        ("15/1", DECEMBER, day("2019-01-15")),
        ("inden udgangen af januar", DECEMBER, (None, "2019-02-01T00:00:00+01:00")),
        ("om tre uger", DECEMBER, ("2018-12-10T00:00:00+01:00", "2019-01-01T00:00:00+01:00")),
        (
            "i næste uge",
            datetime.fromisoformat("2018-12-27T10:00:00+01:00"),
            ("2018-12-31T00:00:00+01:00", "2019-01-07T00:00:00+01:00"),
        ),
        (
            "uge 2",
            datetime.fromisoformat("2018-12-31T10:00:00+01:00"),  # ISO week 1 of 2019
            ("2019-01-07T00:00:00+01:00", "2019-01-14T00:00:00+01:00"),
        ),
    ],
)
def test_year_rollover(text: str, now: datetime, expected: Window) -> None:
    assert iso(find_period(text, now, "da")) == expected


# --- what dateparser misses, and when it is not called at all ---------------------------------

SETTINGS: dict[str, Any] = {
    "DATE_ORDER": "DMY",
    "TIMEZONE": "Europe/Copenhagen",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "RELATIVE_BASE": NOW,
    "PREFER_DATES_FROM": "future",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("om to uger", ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")),
        ("inden udgangen af februar", (None, "2019-03-01T00:00:00+01:00")),
        ("senest den 28/1-2019", (None, "2019-01-29T00:00:00+01:00")),
    ],
)
def test_danish_phrasings_dateparser_misses(text: str, expected: Window) -> None:
    # Why these are parsed by our own rules: dateparser returns nothing for them.
    assert dateparser.parse(text, languages=["da", "en"], settings=SETTINGS) is None
    assert iso(find_period(text, NOW, "da")) == expected


@pytest.fixture(autouse=True)
def _fresh_parse_cache() -> Iterator[None]:
    """dates.py caches dateparser's answers per day; tests that break the parser must not
    leave their answers behind for later tests."""
    dates_module._parse_on_day.cache_clear()
    yield
    dates_module._parse_on_day.cache_clear()


def _forbid_dateparser(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make dateparser.parse raise, and record each call: dates.py catches parser errors.
    dates.py caches parses per day, so the cache is emptied before and after."""
    calls: list[object] = []
    dates_module._parse_on_day.cache_clear()
    monkeypatch.setattr(dates_module, "_parse_on_day", dates_module._parse_on_day.__wrapped__)

    def refuse(text: object, *args: object, **kwargs: object) -> None:
        calls.append(text)
        raise AssertionError("dateparser called for a message without a date")

    monkeypatch.setattr(dateparser, "parse", refuse)
    return calls


@pytest.mark.parametrize(
    "text",
    [
        "hvilke opgaver mangler vi?",
        "hvornår er næste programledermøde?",
        "er der driftsforstyrrelser?",
        "fortæl om kontaktpunkt",
        "hvilke frister har vi?",
        "what's outstanding?",
        "godmorgen",
        "tak for hjælpen",
    ],
)
def test_dateless_messages_never_call_dateparser(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    calls = _forbid_dateparser(monkeypatch)
    assert not has_date_words(text)
    assert understand(text, NOW).period is None
    assert calls == []


def test_dated_messages_do_call_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other side of the check above: the patch reaches the parser dates.py uses.
    calls = _forbid_dateparser(monkeypatch)
    understood = understand("hvad har frist 31/1?", NOW)
    assert calls == ["31/1"]
    assert understood.period is None  # the parser failed: no period, and no crash


def test_relative_windows_need_no_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _forbid_dateparser(monkeypatch)
    understood = understand("hvad skal vi nå om to uger?", NOW)
    assert calls == []
    assert understood.intent is Intent.DUE
    assert iso(understood.period) == ("2019-01-23T00:00:00+01:00", "2019-02-07T00:00:00+01:00")


def test_dateparser_failure_is_no_period(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("language data missing")

    monkeypatch.setattr(dateparser, "parse", broken)
    understood = understand("frister 31/1", NOW)
    assert understood.intent is Intent.DUE
    assert understood.period is None


def test_warm_up_loads_dateparser() -> None:
    warm_up()
    assert iso(find_period("1. februar", NOW, "da")) == day("2019-02-01")


def days(first: str | None, last: str | None) -> Window:
    """The window from the first to the last calendar day, both included (Copenhagen)."""

    def midnight(d: str) -> str:
        moment = datetime.fromisoformat(f"{d}T00:00:00").replace(tzinfo=dates_module.COPENHAGEN)
        return moment.isoformat()

    stop = None
    if last is not None:
        stop = (datetime.fromisoformat(last) + timedelta(days=1)).date().isoformat()
    return (midnight(first) if first else None, midnight(stop) if stop else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The relative periods programme leaders use (issue: "inden månedsskiftet", "i uge 5" ...).
        ("hvad skal vi nå inden månedsskiftet", days(None, "2019-01-31")),
        ("what's due by the end of the month", days(None, "2019-01-31")),
        ("by month end", days(None, "2019-01-31")),
        ("efter månedsskiftet", days("2019-02-01", None)),
        ("frister i uge 5", days("2019-01-28", "2019-02-03")),
        ("inden påske", days(None, "2019-04-17")),
        ("before Easter", days(None, "2019-04-17")),
        ("i påsken", days("2019-04-18", "2019-04-22")),
        ("efter påske", days("2019-04-23", None)),
        ("om 8 dage", days("2019-01-23", "2019-01-31")),
        ("in 8 days", days("2019-01-23", "2019-01-31")),
        ("resten af januar", days("2019-01-23", "2019-01-31")),
        ("the rest of January", days("2019-01-23", "2019-01-31")),
        ("resten af måneden", days("2019-01-23", "2019-01-31")),
        ("resten af ugen", days("2019-01-23", "2019-01-27")),
        ("januar ud", days("2019-01-23", "2019-01-31")),
        ("senest torsdag i næste uge", days(None, "2019-01-31")),
        ("by Thursday next week", days(None, "2019-01-31")),
        ("næste uges torsdag", days("2019-01-31", "2019-01-31")),
        ("fredag i uge 5", days("2019-02-01", "2019-02-01")),
        ("denne måned", days("2019-01-01", "2019-01-31")),
        ("this month", days("2019-01-01", "2019-01-31")),
        ("i april og maj", days("2019-04-01", "2019-05-31")),
        ("frister i februar og marts", days("2019-02-01", "2019-03-31")),
        ("any deadlines in feb", days("2019-02-01", "2019-02-28")),
        ("i 1. kvartal", days("2019-01-01", "2019-03-31")),
        ("Q2", days("2019-04-01", "2019-06-30")),
        ("i foråret", days("2019-03-01", "2019-05-31")),
        ("this spring", days("2019-03-01", "2019-05-31")),
        ("i år", days("2019-01-01", "2019-12-31")),
        ("primo februar", days("2019-02-01", "2019-02-10")),
        ("the coming fortnight", days("2019-01-23", "2019-02-06")),
        ("de næste par uger", days("2019-01-23", "2019-02-06")),
        ("inden vi går på vinterferie i uge 7", days(None, "2019-02-10")),
        ("inden jul", days(None, "2019-12-23")),
        # "may" the verb and an abbreviation without a preposition are no months.
        ("may I ask about the deadlines", None),
        ("jan er ansvarlig", None),
    ],
)
def test_relative_periods_programme_leaders_use(text: str, expected: Window | None) -> None:
    assert iso(find_period(text, NOW, "da")) == expected


def test_easter_moves_with_the_year() -> None:
    # Easter Sunday 2020 is 12 April: "inden påske" ends the day before Maundy Thursday, 8 April.
    now = datetime.fromisoformat("2020-01-10T10:00:00+01:00")
    assert iso(find_period("inden påske", now, "da")) == days(None, "2020-04-08")
    # After Easter the next one is next year's.
    after = datetime.fromisoformat("2019-05-01T10:00:00+02:00")
    assert iso(find_period("inden påske", after, "da")) == days(None, "2020-04-08")
