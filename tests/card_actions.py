"""Walk every action in an Adaptive Card, wherever it sits, and check Universal Actions' fallbacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def iter_actions(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, action) for every action: card actions, ActionSets at any depth, selectActions,
    ShowCard cards, and the fallbacks themselves."""
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and kind.startswith("Action."):
            yield path or "/", node
        for key, value in node.items():
            yield from iter_actions(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from iter_actions(item, f"{path}/{index}")


def execute_fallback_errors(card: dict[str, Any]) -> list[str]:
    """Every Action.Execute without an Action.Submit fallback (Teams clients without Universal
    Actions would show a dead button)."""
    errors = []
    for path, action in iter_actions(card):
        if action.get("type") != "Action.Execute":
            continue
        fallback = action.get("fallback")
        if not isinstance(fallback, dict) or fallback.get("type") != "Action.Submit":
            errors.append(f"{path}: Action.Execute {action.get('title')!r} has no Action.Submit fallback")
        elif "data" not in fallback:
            errors.append(f"{path}: the fallback of {action.get('title')!r} sends no data")
    return errors
