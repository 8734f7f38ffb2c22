"""Recognising status commands, responsibility and KOMBIT's overview requests; card signing."""

from __future__ import annotations

import pytest

from dialogs.card_signing import CardSigner
from dialogs.commands import Command, CommandKind, recognise_command
from storage.domain import TaskStatus

C, S, N, A = TaskStatus.COMPLETED, TaskStatus.STARTED, TaskStatus.NOT_STARTED, TaskStatus.NOT_ACTIVE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sæt 'Udpeg kontaktpunkt' til fuldført", Command(CommandKind.SET_STATUS, "da", "udpeg kontaktpunkt", C)),
        ("Sæt kontaktpunkt til påbegyndt.", Command(CommandKind.SET_STATUS, "da", "kontaktpunkt", S)),
        ("sæt kontaktpunkt til ikke påbegyndt", Command(CommandKind.SET_STATUS, "da", "kontaktpunkt", N)),
        ("marker underskriftberettiget som fuldført", Command(CommandKind.SET_STATUS, "da", "underskriftberettiget", C)),
        ("vi er gået i gang med underskriftberettiget", Command(CommandKind.SET_STATUS, "da", "underskriftberettiget", S)),
        ("vi er færdige med kontaktpunkt", Command(CommandKind.SET_STATUS, "da", "kontaktpunkt", C)),
        ("vi har fuldført opgaven om kontaktpunkt", Command(CommandKind.SET_STATUS, "da", "om kontaktpunkt", C)),
        ("kontaktpunkt er fuldført", Command(CommandKind.SET_STATUS, "da", "kontaktpunkt", C)),
        ("it-miljø er ikke aktiv for os", Command(CommandKind.SET_STATUS, "da", "it-miljø", A)),
        ("opdater status på kontaktpunkt", Command(CommandKind.SET_STATUS, "da", "kontaktpunkt", None)),
        ("mark the contact point task as completed", Command(CommandKind.SET_STATUS, "en", "contact point", C)),
        ("set the signatory task to in progress", Command(CommandKind.SET_STATUS, "en", "signatory", S)),
        ("we have started the contact point task", Command(CommandKind.SET_STATUS, "en", "contact point", S)),
        ("we're done with the signatory task", None),
        ("we finished the signatory task", Command(CommandKind.SET_STATUS, "en", "signatory", C)),
        ("jeg er ansvarlig for kontaktpunkt", Command(CommandKind.SET_RESPONSIBLE, "da", "kontaktpunkt")),
        ("I am responsible for the contact point task", Command(CommandKind.SET_RESPONSIBLE, "en", "contact point")),
        ("Anne er ansvarlig", Command(CommandKind.SET_RESPONSIBLE, "da", None, None, "Anne")),
        ("Anne Holm er ansvarlig for it-miljø", Command(CommandKind.SET_RESPONSIBLE, "da", "it-miljø", None, "Anne Holm")),
        ("hvad er jeg ansvarlig for?", Command(CommandKind.MY_RESPONSIBILITIES, "da")),
        ("what am I responsible for?", Command(CommandKind.MY_RESPONSIBILITIES, "en")),
        ("hvem mangler Udpeg kontaktpunkt?", Command(CommandKind.WHO_MISSING, "da", "udpeg kontaktpunkt")),
        ("hvilke kommuner har ikke fuldført kontaktpunkt", Command(CommandKind.WHO_MISSING, "da", "kontaktpunkt")),
        ("who hasn't completed the contact point task?", Command(CommandKind.WHO_MISSING, "en", "contact point")),
        ("status på kontaktpunkt", Command(CommandKind.TASK_STATUS, "da", "kontaktpunkt")),
        ("what is the status of the signatory task", Command(CommandKind.TASK_STATUS, "en", "signatory")),
        ("overblik", Command(CommandKind.OVERVIEW, "da")),
        ("status overview", Command(CommandKind.OVERVIEW, "en")),
        # Questions stay questions.
        ("hvilke opgaver mangler vi?", None),
        ("hvad er fuldført?", None),
        ("hvem er du", None),
        ("hvornår er næste programledermøde?", None),
        ("", None),
    ],
)
def test_recognise(text: str, expected: Command | None) -> None:
    locale = "en-US" if expected is not None and expected.language == "en" else "da-DK"
    assert recognise_command(text, locale) == expected


def test_signatures_catch_every_edit() -> None:
    signer = CardSigner(b"k" * 32)
    payload = signer.sign({"klikbot": "set_status", "municipality": 630, "task": "t", "version": 1, "lang": "da"})
    assert signer.verify(payload)
    assert signer.verify({**payload, "status": "fuldfoert", "lang": "en"})  # the button's own choice
    for edit in ({"municipality": 751}, {"task": "u"}, {"version": 2}, {"klikbot": "other"}, {"sig": "x" * 32}):
        assert not signer.verify({**payload, **edit})
    assert not CardSigner(b"o" * 32).verify(payload)
    with pytest.raises(ValueError, match="too short"):
        CardSigner(b"short")
