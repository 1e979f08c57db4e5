"""Webhook deliveries in the platforms' documented shapes (bench/platform_payloads.py, as the stand-in
speaks them), with any value in any of their fields: what a fuzzer sends past the signature check."""

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from bench import platform_payloads as p

START_MS = 1_763_900_000_000
DELIVERIES: list[tuple[str, dict[str, Any]]] = [
    ("meta", p.page(p.dm("m_1", "psid-1", "Where is my parcel?", START_MS))),
    ("meta", p.page(p.postback("m_2", "psid-1", "Talk to a person", "HANDOFF", START_MS))),
    ("meta", p.page(p.quick_reply("m_3", "psid-1", "Yes", "AFFIRM", START_MS))),
    ("meta", p.page(changes=[p.feed_comment("555_1", "fb-1", "Ada", "My refund, ada@example.com", START_MS // 1000)])),
    ("meta", p.page(obj="instagram", changes=[p.instagram_comment("1785", "ig-1", "ada", "Do you ship?")])),
    ("meta", p.page(obj="instagram", changes=[p.instagram_mention("1786")])),
    ("x", p.x_dm("5001", "4242", "Opening hours?", START_MS)),
    ("x", p.x_tweets(p.tweet("1700", "77", "@kestrel card 4111 1111 1111 1111 charged twice", START_MS))),
]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(st.characters(exclude_categories=()), max_size=8)
    | st.text(max_size=400).map(lambda t: t * 3)
    | st.sampled_from(["2026-11-23T12:00:00", "0001-01-01T00:00:00+01:00", "Mon, 23 Nov 2026 12:00:00 -0000"])
)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from paths(inner, (*prefix, name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


def changed(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = changed(value[path[0]], path[1:], new)
    return copy


@st.composite
def deliveries(draw: st.DrawFn, platforms: tuple[str, ...] = ("meta", "x")) -> tuple[str, dict[str, Any]]:
    """A documented delivery of one of `platforms`, one to three of its fields given any value."""
    platform, delivery = draw(st.sampled_from([d for d in DELIVERIES if d[0] in platforms]))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(delivery))[1:]))
        delivery = changed(delivery, path, draw(values))
    return platform, delivery
