"""Validate Adaptive Cards offline against Microsoft's Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator

SCHEMA = Path(__file__).parent / "schemas" / "adaptive-card.v1.5.schema.json"
MAX_CARD_BYTES = 40 * 1024  # Teams refuses messages over ~40 KB


@cache
def _validator() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft6Validator(schema)


def card_errors(card: dict[str, Any]) -> list[str]:
    """Every problem with the card; empty when it is a valid Adaptive Card 1.5 Teams can take."""
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in _validator().iter_errors(card)
    ]
    if card.get("version") != "1.5":
        errors.append(f"version is {card.get('version')!r}, not 1.5")
    size = len(json.dumps(card, ensure_ascii=False).encode())
    if size > MAX_CARD_BYTES:
        errors.append(f"card is {size} bytes, over {MAX_CARD_BYTES}")
    return errors
