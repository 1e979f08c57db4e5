"""A webhook delivery's JSON made storable by every database.

PostgreSQL refuses a NUL character in text, UTF-8 cannot encode a lone surrogate (`"\\ud800"`), and
a number no 64-bit integer or float holds (`1e999`, `NaN`, twenty digits) fails the JSON column or
whatever reads it next. The platform signed what it sent and delivers the whole batch again on
anything but a 2xx, so such a delivery is not refused: the characters are removed, the numbers kept
as their text, and each event says what was changed in `raw["cleaned"]`. The signature has been
checked on the bytes as received, before any of this.
"""

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from app.core.errors import MalformedBody
from app.social.platform_events import RawEvent

NUL = "\x00"
SURROGATES = re.compile("[\ud800-\udfff]")
INT64 = range(-(2**63), 2**63)
# No integer of more digits fits in 64 bits; checked first so thousands of digits are never converted.
INT64_DIGITS = 19

NUL_REMOVED = "NUL characters removed"
SURROGATES_REMOVED = "lone surrogates removed"
NUMBERS_AS_TEXT = "numbers no 64-bit type holds kept as text"


@dataclass(frozen=True)
class Unrepresentable:
    """A number as the delivery wrote it, until the event it is in is made storable."""

    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _integer(text: str) -> int | Unrepresentable:
    if len(text.lstrip("-")) > INT64_DIGITS:
        return Unrepresentable(text)
    value = int(text)
    return value if value in INT64 else Unrepresentable(text)


def _real(text: str) -> float | Unrepresentable:
    value = float(text)
    return value if math.isfinite(value) else Unrepresentable(text)


def parse(body: bytes) -> Any:
    """The body as JSON, each number no 64-bit type holds left as an `Unrepresentable`."""
    try:
        return json.loads(body, parse_int=_integer, parse_float=_real, parse_constant=Unrepresentable)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"the body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedBody("the body is JSON nested too deeply to read") from exc


def storable(event: RawEvent) -> RawEvent:
    """The event with NUL and lone surrogates removed from its texts and its unrepresentable numbers
    written as text, noting which of those it needed; the same event when it needed none."""
    changes: set[str] = set()
    raw = _cleaned(event.raw, changes)
    key = _text(event.key, changes)
    reason = None if event.reason is None else _text(event.reason, changes)
    sender = None if event.sender is None else _text(event.sender, changes)
    if not changes:
        return event
    return replace(event, key=key, reason=reason, sender=sender, raw={**raw, "cleaned": sorted(changes)})


def _text(text: str, changes: set[str]) -> str:
    if NUL in text:
        changes.add(NUL_REMOVED)
        text = text.replace(NUL, "")
    if SURROGATES.search(text):
        changes.add(SURROGATES_REMOVED)
        text = SURROGATES.sub("", text)
    return text


def _cleaned(value: Any, changes: set[str]) -> Any:
    """A copy of `value` with every text and number storable. A loop, not recursion: a delivery may
    nest as deep as the JSON parser allows, deeper than a recursive walk from here could."""
    root: list[Any] = [None]
    todo: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while todo:
        parent, slot, item = todo.pop()
        if isinstance(item, dict):
            mapping: dict[str, Any] = {}
            parent[slot] = mapping
            for name, inner in item.items():
                clean_name = _text(name, changes)
                mapping[clean_name] = None
                todo.append((mapping, clean_name, inner))
        elif isinstance(item, list):
            items: list[Any] = [None] * len(item)
            parent[slot] = items
            todo.extend((items, index, inner) for index, inner in enumerate(item))
        elif isinstance(item, str):
            parent[slot] = _text(item, changes)
        elif isinstance(item, Unrepresentable):
            changes.add(NUMBERS_AS_TEXT)
            parent[slot] = item.text
        else:
            parent[slot] = item
    return root[0]
