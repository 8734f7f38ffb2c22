"""Every card the bot can send (dialogs.gallery), in Danish and English, is a valid Adaptive Card
1.5 under Teams' size limit, and every Universal Action has a fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dialogs.gallery import CARDS, RAW_CARDS, all_cards
from tests.card_actions import execute_fallback_errors, iter_actions
from tests.card_schema import MAX_CARD_BYTES, card_errors
from tests.conftest import DEMO_NOW

CARDS_AT_DEMO_TIME = all_cards(DEMO_NOW)
# The kinds of answer the issue names; colleagues add more to dialogs/gallery.py.
REQUIRED_KINDS = {
    "outstanding",
    "outstanding-overdue",
    "due",
    "task-detail-fixed-deadline",
    "task-detail-self-set-deadline",
    "choose-task",
    "no-task",
    "events",
    "next-event",
    "incidents-none-open",
    "incidents-one-open",
    "help",
    "greeting",
    "fallback",
    "cancelled",
    "bad-input",
    "welcome",
    "unregistered",
    "kombit",
}


def _ids() -> list[str]:
    return [f"{name}-{lang}" for name, lang, _ in CARDS_AT_DEMO_TIME]


def _text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_gallery_covers_every_kind_in_both_languages() -> None:
    names = [name for name, _ in CARDS] + [name for name, _ in RAW_CARDS]
    assert len(names) == len(set(names)), "two gallery entries share a name"
    assert set(names) >= REQUIRED_KINDS
    keys = [(name, lang) for name, lang, _ in CARDS_AT_DEMO_TIME]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(name, lang) for name in names for lang in ("da", "en")}


@pytest.mark.parametrize(("name", "lang", "card"), CARDS_AT_DEMO_TIME, ids=_ids())
def test_card_is_a_valid_adaptive_card_1_5(name: str, lang: str, card: dict[str, Any]) -> None:
    assert card_errors(card) == []


@pytest.mark.parametrize(("name", "lang", "card"), CARDS_AT_DEMO_TIME, ids=_ids())
def test_card_is_under_40_kb(name: str, lang: str, card: dict[str, Any]) -> None:
    assert len(_text(card).encode()) < MAX_CARD_BYTES


@pytest.mark.parametrize(("name", "lang", "card"), CARDS_AT_DEMO_TIME, ids=_ids())
def test_every_execute_action_has_a_submit_fallback(name: str, lang: str, card: dict[str, Any]) -> None:
    assert execute_fallback_errors(card) == []


def test_the_fallback_check_sees_every_action_in_every_card() -> None:
    checked = sum(1 for _, _, card in CARDS_AT_DEMO_TIME for _ in iter_actions(card))
    assert checked > 50, "the gallery's cards should carry buttons and clickable sections"
    # It finds actions in nested ActionSets, selectActions and ShowCard cards, and flags
    # an Execute without a fallback or with a fallback of the wrong type.
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {
                "type": "Container",
                "selectAction": {"type": "Action.Execute", "verb": "a", "title": "select"},
                "items": [
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Execute",
                                "verb": "b",
                                "title": "nested",
                                "fallback": {"type": "Action.OpenUrl", "url": "https://x.dk", "title": "x"},
                            },
                            {
                                "type": "Action.Execute",
                                "verb": "ok",
                                "title": "fine",
                                "fallback": {"type": "Action.Submit", "title": "fine", "data": {"v": 1}},
                            },
                        ],
                    }
                ],
            }
        ],
        "actions": [
            {
                "type": "Action.ShowCard",
                "title": "more",
                "card": {
                    "type": "AdaptiveCard",
                    "body": [],
                    "actions": [{"type": "Action.Execute", "verb": "c", "title": "deep"}],
                },
            }
        ],
    }
    errors = execute_fallback_errors(card)
    assert len(errors) == 3
    assert {e.split("'")[1] for e in errors} == {"select", "nested", "deep"}


def test_each_card_speaks_its_language() -> None:
    cards = {(name, lang): card for name, lang, card in CARDS_AT_DEMO_TIME}
    for name, _ in CARDS:
        assert cards[(name, "da")] != cards[(name, "en")], f"{name}: Danish and English cards are the same"
    assert "Udestående KLIK-opgaver for Vejle" in _text(cards[("outstanding", "da")])
    assert "Outstanding KLIK tasks for Vejle" in _text(cards[("outstanding", "en")])


def test_overdue_variant_flags_overdue_tasks_and_the_plain_one_does_not() -> None:
    cards = {(name, lang): card for name, lang, card in CARDS_AT_DEMO_TIME}
    assert "overskredet" not in _text(cards[("outstanding", "da")])
    assert "er overskredet" in _text(cards[("outstanding-overdue", "da")])
    assert "has passed" in _text(cards[("outstanding-overdue", "en")])


def test_variants_show_what_their_names_say() -> None:
    cards = {(name, lang): _text(card) for name, lang, card in CARDS_AT_DEMO_TIME}
    assert "I fastsætter selv fristen" in cards[("task-detail-self-set-deadline", "da")]
    assert "31/1-2019" in cards[("task-detail-fixed-deadline", "da")]
    assert "Ingen driftsforstyrrelser" in cards[("incidents-none-open", "da")]
    assert "1 aktuel driftsforstyrrelse" in cards[("incidents-one-open", "da")]
    assert "Programledermøde februar" in cards[("next-event", "da")]
    assert "Vejle" in cards[("welcome", "da")]


def test_gallery_builds_at_any_clock() -> None:
    # The gallery must not break when run on the real clock (everything in the demo is past).
    later = all_cards(DEMO_NOW.replace(year=2030))
    assert len(later) == len(CARDS_AT_DEMO_TIME)
    assert all(card_errors(card) == [] for _, _, card in later)
