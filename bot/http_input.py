"""What comes in over HTTP, made safe before anything else reads it: JSON bodies and bearer
tokens.

- A JSON body nested too deeply for Python's parser (`[` × 100,000) is bad JSON, a 400, not a
  RecursionError and a 500.
- JSON may spell lone surrogates (`"\\ud800"`), which Python decodes but no UTF-8 encoder, asyncpg
  or PostgreSQL's JSON takes back: they become U+FFFD in every string, keys too, so a message,
  a display name or an id with one gets an ordinary answer.
- An Authorization header may carry any bytes (aiohttp decodes them as UTF-8, undecodable bytes
  as surrogates): one that cannot be the token is a 401, never an encoding error and a 500.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from storage.limits import without_surrogates

# A \u escape of a surrogate in JSON text: only then can a decoded string hold a lone one.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


class BadJson(ValueError):
    """The body is not JSON this service can read."""


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw` (UTF-8), with lone surrogates replaced; BadJson when it is not
    valid JSON, not UTF-8, or nested deeper than the parser goes."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadJson("the body is not valid JSON") from error
    if _ESCAPED_SURROGATE.search(raw):
        value = _without_surrogates(value)
    return value


def _without_surrogates(value: Any) -> Any:
    # Not recursive: a body nested as deeply as the parser allows must not overflow the stack here.
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = without_surrogates(item)
        elif isinstance(item, list):
            stack.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            cleaned = {without_surrogates(k): v for k, v in item.items()}
            container[key] = cleaned
            stack.extend((cleaned, k) for k in cleaned)
    return root[0]


def is_ascii_token(header: str) -> bool:
    """Whether an Authorization header could carry a Bot Framework token (a JWT): printable
    ASCII only."""
    return header.isascii() and header.isprintable()


def bearer_matches(header: str, token: str) -> bool:
    """Whether `header` is `Bearer <token>`, compared in constant time (as bytes: the header's
    as they came); False for anything else, whatever its bytes."""
    scheme, _, provided = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    try:
        given = provided.strip().encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate aiohttp did not make: not from the wire, not a token
        return False
    return hmac.compare_digest(given, token.encode("utf-8", "surrogateescape"))
