"""Any value in any field of the platforms' documented deliveries: the webhook either refuses the
envelope with a 4xx naming the field or stores every event, and the intake then processes each
event or keeps it as unprocessable; nothing raises, nothing is left pending."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.conversations.models import Message
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import InvalidInput
from app.social import inbox, payloads
from app.social import meta as meta_webhook
from app.social import x as x_webhook
from app.social.intake import Intake
from app.social.models import InboxEvent, InboxStatus
from app.social.platform_events import RawEvent
from bench import platform_payloads as p
from tests.support.deliveries import START_MS, deliveries
from tests.support.flows import customer_message_to


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


async def comment(comment_id: str) -> dict[str, Any]:
    return {"id": comment_id, "text": "@kestrel recyclable?", "from": {"id": "ig-2", "username": "bea"}}


def cut(platform: str, delivery: dict[str, Any]) -> list[RawEvent] | None:
    """The events of the delivery as the webhook reads its body; None when it refuses the envelope."""
    body = payloads.parse(json.dumps(delivery).encode())
    try:
        if platform == "meta":
            return meta_webhook.split(body)
        return x_webhook.split(body, p.BRAND_X_ID)
    except InvalidInput as refused:
        assert refused.field
        return None


def naive_tweet() -> dict[str, Any]:
    tweet = p.tweet("1701", "78", "@kestrel hello", START_MS)
    del tweet["timestamp_ms"]
    return p.x_tweets({**tweet, "created_at": "Mon, 23 Nov 2026 12:00:00 -0000"})


def naive_instagram_comment() -> dict[str, Any]:
    comment = p.instagram_comment("1787", "ig-3", "cy", "Do you ship?")
    comment["value"]["timestamp"] = "2026-11-23T12:00:00"
    return p.page(obj="instagram", changes=[comment])


def x_dm_from(name: Any) -> dict[str, Any]:
    delivery = p.x_dm("5002", "4243", "Hello", START_MS)
    delivery["users"]["4243"]["name"] = name
    return delivery


# What was found: each made a 500, or an event that stopped the intake, every round.
@example(delivery=("meta", {"object": [], "entry": []}))
@example(delivery=("meta", {"object": "page", "entry": [{"id": p.PAGE_ID, "messaging": 5}]}))
@example(delivery=("meta", naive_instagram_comment()))
@example(delivery=("x", naive_tweet()))
@example(delivery=("x", x_dm_from({"first": "Ada"})))
@example(delivery=("x", x_dm_from("A" * 500)))
@example(delivery=("meta", p.page(p.dm("m_long", "9" * 300, "Hello", START_MS))))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivery=deliveries())
def test_any_value_in_a_documented_delivery_is_stored_then_processed_or_kept_unprocessable(
    engine: Engine, delivery: tuple[str, dict[str, Any]]
) -> None:
    events = cut(*delivery)
    opener = session_factory(engine)
    with unit_of_work(opener) as session:
        session.execute(InboxEvent.__table__.delete())  # type: ignore[attr-defined]
        if events:
            inbox.store(session=session, events=events)
    delivered: list[Message] = []
    intake = Intake(
        open_session=opener,
        customer_message=customer_message_to(opener, delivered.append),
        read_comment=comment,
        settle_seconds=0,
    )

    asyncio.run(intake.drain())

    with Session(engine) as session:
        left = [e.event_key for e in session.exec(select(InboxEvent)) if e.status == InboxStatus.pending]
    assert left == []
