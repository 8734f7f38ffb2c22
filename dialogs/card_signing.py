"""Card payloads that change data are signed, so an edited payload is recognised and refused.

The municipality always comes from the sender's tenant; the signature additionally shows that
the task, status version and municipality in a payload are the ones the bot put on the card.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

SIGNED_FIELDS = ("klikbot", "municipality", "task", "version")


class CardSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the card signing key is too short")
        self._key = key

    def _digest(self, payload: dict[str, Any]) -> str:
        message = "\x1f".join(f"{name}={payload.get(name)!s}" for name in SIGNED_FIELDS)
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "sig": self._digest(payload)}

    def verify(self, payload: dict[str, Any]) -> bool:
        signature = payload.get("sig")
        return isinstance(signature, str) and hmac.compare_digest(signature, self._digest(payload))
