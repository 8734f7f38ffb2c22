"""Values from Teams that are longer than the columns they go into.

Teams sends display names of up to 256 characters, conversation ids of up to 1,024, and tenant
ids, team ids and user ids of no stated length; the columns are shorter (a name 200 characters,
a conversation id 512, a tenant id 64, a state key 255). PostgreSQL refuses a value longer than
its column, and with it the whole change (SQLite stores it). So no value goes to the database
longer than its column:

- text shown to people (display names) is cut to the column's size with an ellipsis: `cap`;
- ids and keys are looked up, and cutting them could make two the same: one that does not fit
  is stored as a stable hash instead, `sha256:` and the hex digest cut to the size: `fit`.

The column types `CappedText` and `FittedId` apply them to every value bound to such a column,
in inserts, updates and comparisons alike, so a lookup by a long id finds the row its insert
wrote. Where the long original is needed again (a conversation id, to send to it), the caller
keeps it elsewhere (`storage.subscriptions`).
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect

ELLIPSIS = "…"
HASH_PREFIX = "sha256:"
_SURROGATE = re.compile("[\ud800-\udfff]")


def cap(value: str, size: int) -> str:
    """`value`, or its first characters and an ellipsis: `size` characters in all."""
    if len(value) <= size:
        return value
    return value[: max(size - len(ELLIPSIS), 0)] + ELLIPSIS


def fit(value: str, size: int) -> str:
    """`value` when it fits in `size` characters, else `sha256:` and its digest cut to the size
    (the whole 256-bit digest from 71 characters on, 228 bits in 64). The same value always gives the same result; a value
    that already starts with `sha256:` is hashed too, so no stored id can pass for another."""
    if len(value) <= size and not value.startswith(HASH_PREFIX):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return (HASH_PREFIX + digest)[:size]


def is_fitted(value: str) -> bool:
    """Whether `value` is a hash that `fit` stored in place of a longer value."""
    return value.startswith(HASH_PREFIX)


def without_surrogates(value: str) -> str:
    """`value` with every lone surrogate (half of a UTF-16 pair, which no UTF-8 encoder takes)
    replaced by U+FFFD; valid text comes back as it was."""
    if not _SURROGATE.search(value):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class CappedText(TypeDecorator[str]):
    """A VARCHAR(size) of text for people to read: longer values are cut with an ellipsis."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.size = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return cap(value, self.size) if isinstance(value, str) else value


class FittedId(TypeDecorator[str]):
    """A VARCHAR(size) of ids: a longer id is stored (and looked up) as its hash (`fit`)."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.size = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return fit(value, self.size) if isinstance(value, str) else value
