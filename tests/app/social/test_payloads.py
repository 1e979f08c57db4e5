"""Whatever JSON a platform signs, each event of it is storable: UTF-8, no NUL, numbers JSON holds."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.errors import MalformedBody
from app.social import payloads
from app.social.platform_events import RawEvent

# Every code point, lone surrogates and NUL included.
texts = st.text(st.characters(exclude_categories=()), max_size=12)
LITERALS = ("1e999", "-1e999", "NaN", "Infinity", "9" * 400)
numbers = st.integers() | st.floats() | st.sampled_from(LITERALS)
documents = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


def written(value: Any) -> str:
    """JSON text as a platform may write it: numbers beyond what Python's json emits, as literals."""
    if isinstance(value, str) and value in LITERALS:
        return value
    if isinstance(value, list):
        return "[" + ",".join(written(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{written(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


@given(document=documents, key=texts)
def test_every_event_of_any_json_is_storable(document: Any, key: str) -> None:
    parsed = payloads.parse(written({"event": document}).encode())
    event = RawEvent("meta", key, "messenger", datetime.now(UTC), parsed, reason=key)

    stored = payloads.storable(event)

    text = json.dumps([stored.raw, stored.key, stored.reason], ensure_ascii=False, allow_nan=False)
    assert "\x00" not in text
    text.encode("utf-8")
    assert stored.raw.get("cleaned", []) == sorted(set(stored.raw.get("cleaned", [])))


def test_a_clean_event_is_kept_as_it_is() -> None:
    event = RawEvent("x", "dm:1", "x_dm", datetime.now(UTC), payloads.parse(b'{"event": {"id": 12, "n": 0.5}}'))

    assert payloads.storable(event) is event


def test_json_nested_deeper_than_the_parser_reads_is_a_malformed_body() -> None:
    depth = 100_000
    with pytest.raises(MalformedBody, match="nested too deeply"):
        payloads.parse(b"[" * depth + b"]" * depth)
