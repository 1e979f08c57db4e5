"""The webhooks' answers on each database: how many events were new, and a 200 for every signed
delivery a platform sends, whatever characters and numbers are in it."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from app.cli.background import LiveServer
from app.conversations.models import Author, Message
from app.core.db import make_engine
from app.social.models import InboxEvent, InboxStatus
from app.social.signatures import meta_signature, x_signature
from bench import platform_payloads as p

START_MS = 1_763_900_000_000


async def test_the_answer_counts_new_events_on_first_delivery_and_none_on_redelivery(service: LiveServer) -> None:
    meta = p.signed_meta(p.page(p.dm("m_new_1", "psid-1", "hi", START_MS), p.dm("m_new_2", "psid-1", "yo", START_MS)))
    x = p.signed_x(p.x_dm("77001", "4242", "hello", START_MS))

    async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as http:
        answers = [
            (await http.post(path, content=body, headers=headers)).json()
            for path, (body, headers) in [("/webhooks/meta", meta), ("/webhooks/x", x)] * 2
        ]

    assert answers == [
        {"received": 2, "new": 2},
        {"received": 1, "new": 1},
        {"received": 2, "new": 0},
        {"received": 1, "new": 0},
    ]


BEYOND_64_BITS = 2**70
# A number the test replaces, in the body's text, with one no 64-bit float holds.
HUGE_FLOAT = 987654321.5
PATHS = {"meta": "/webhooks/meta", "x": "/webhooks/x"}


def signed(platform: str, delivery: dict[str, Any], *, huge: str = "1e999") -> tuple[bytes, dict[str, str]]:
    """The delivery as the platform would sign it, with `huge` written where HUGE_FLOAT stands."""
    body = json.dumps(delivery).replace(repr(HUGE_FLOAT), huge).encode()
    if platform == "meta":
        return body, {"X-Hub-Signature-256": meta_signature(p.META_SECRET, body)}
    return body, {"x-twitter-webhooks-signature": x_signature(p.X_SECRET, body)}


def with_field(event: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**event, **fields}


def x_dm_at(event_id: str, sender: str, text: str, created: Any) -> dict[str, Any]:
    delivery = p.x_dm(event_id, sender, text, START_MS)
    delivery["direct_message_events"][0]["created_timestamp"] = created
    return delivery


@dataclass(frozen=True)
class Case:
    platform: str
    delivery: dict[str, Any]
    # What each stored event became: its key (or the start of it), its status, the note of what was
    # changed, a word of its reason.
    stored: list[tuple[str, InboxStatus, list[str], str]]
    said: list[str]
    huge: str = "1e999"


CASES = {
    "NUL in a text and an id": Case(
        "meta",
        p.page(p.dm("m_\x00nul", "psid-nul", "Where is\x00 my order?", START_MS)),
        [("m_nul", InboxStatus.processed, ["NUL characters removed"], "")],
        ["Where is my order?"],
    ),
    "NUL in an X DM": Case(
        "x",
        p.x_dm("88001", "4243", "Opening\x00 hours?", START_MS, name="Nu\x00l"),
        [("dm:88001", InboxStatus.processed, ["NUL characters removed"], "")],
        ["Opening hours?"],
    ),
    "a lone surrogate": Case(
        "meta",
        p.page(p.dm("m_surrogate\ud800", "psid-surrogate", "Hello \udfffthere", START_MS)),
        [("m_surrogate", InboxStatus.processed, ["lone surrogates removed"], "")],
        ["Hello there"],
    ),
    "an integer beyond 64 bits": Case(
        "meta",
        p.page(
            with_field(p.dm("m_big_field", "psid-big", "Do you ship abroad?", START_MS), sequence=BEYOND_64_BITS),
            p.dm("m_big_time", "psid-big", "And to Norway?", BEYOND_64_BITS),
        ),
        [
            ("m_big_field", InboxStatus.processed, ["numbers no 64-bit type holds kept as text"], ""),
            ("unprocessable:", InboxStatus.unprocessable, ["numbers no 64-bit type holds kept as text"], "timestamp"),
        ],
        ["Do you ship abroad?"],
    ),
    "an integer of 5,000 digits": Case(
        "x",
        x_dm_at("88002", "4244", "Hi there", HUGE_FLOAT),
        [("unprocessable:", InboxStatus.unprocessable, ["numbers no 64-bit type holds kept as text"], "timestamp")],
        [],
        huge="9" * 5000,
    ),
    "1e999": Case(
        "meta",
        p.page(
            with_field(p.dm("m_inf_field", "psid-inf", "Can I pay later?", START_MS), score=HUGE_FLOAT),
            with_field(p.dm("m_inf_time", "psid-inf", "Hello?", START_MS), timestamp=HUGE_FLOAT),
        ),
        [
            ("m_inf_field", InboxStatus.processed, ["numbers no 64-bit type holds kept as text"], ""),
            ("unprocessable:", InboxStatus.unprocessable, ["numbers no 64-bit type holds kept as text"], "timestamp"),
        ],
        ["Can I pay later?"],
    ),
    "NaN and Infinity": Case(
        "x",
        x_dm_at("88003", "4245", "Anyone there?", HUGE_FLOAT),
        [("unprocessable:", InboxStatus.unprocessable, ["numbers no 64-bit type holds kept as text"], "timestamp")],
        [],
        huge="NaN",
    ),
}


async def until_settled(live: LiveServer) -> list[InboxEvent]:
    """Every inbox event, once none is pending any more."""
    engine = make_engine(live.app.state.settings.database_url)
    try:
        for _ in range(300):
            with Session(engine) as session:
                events = list(session.exec(select(InboxEvent).order_by(col(InboxEvent.id))))
            if events and all(e.status != InboxStatus.pending for e in events):
                return events
            await asyncio.sleep(0.1)
        pytest.fail("the inbox still has pending events")
    finally:
        engine.dispose()


def customer_texts(live: LiveServer) -> list[str]:
    engine = make_engine(live.app.state.settings.database_url)
    with Session(engine) as session:
        statement = select(Message.text).where(Message.author == Author.customer).order_by(col(Message.id))
        texts = list(session.exec(statement))
    engine.dispose()
    return texts


@pytest.mark.parametrize("name", CASES)
async def test_a_delivery_with_what_no_database_stores_is_answered_200_and_kept_cleaned(
    service: LiveServer, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    case = CASES[name]
    body, headers = signed(case.platform, case.delivery, huge=case.huge)

    async with httpx.AsyncClient(base_url=service.http_url, timeout=10) as http:
        answer = await http.post(PATHS[case.platform], content=body, headers=headers)
    events = await until_settled(service)

    assert (answer.status_code, answer.json()) == (200, {"received": len(case.stored), "new": len(case.stored)})
    stored = [(e.event_key, e.status, e.raw.get("cleaned"), e.reason or "") for e in events]
    assert [(status, cleaned) for _, status, cleaned, _ in stored] == [
        (status, cleaned) for _, status, cleaned, _ in case.stored
    ]
    for (key, *_, reason), (expected_key, *_, word) in zip(stored, case.stored, strict=True):
        assert key == expected_key or (expected_key.endswith(":") and key.startswith(expected_key))
        assert word in reason
    assert customer_texts(service) == case.said
    assert "\\u0000" not in json.dumps([e.raw for e in events]) and "\\ud" not in json.dumps([e.raw for e in events])
    assert "psid-" not in caplog.text and "4245" not in caplog.text, "no log line holds a piece of the body"
