"""The intake on its own: several instances draining one inbox, in the platforms' time order."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.conversations.models import Author, Message
from app.core.db import make_engine, session_factory, unit_of_work
from app.outbox.queue import SendFailed
from app.social.intake import Intake
from app.social.models import InboxEvent, InboxStatus
from app.social.x import split as x_split
from bench import platform_payloads as p
from tests.support import factories
from tests.support.flows import customer_message_to

START_MS = 1_763_900_000_000


async def no_comments(comment_id: str) -> dict[str, Any]:
    raise AssertionError(f"no mention here, yet comment {comment_id} was read")


def intake(database_url: str, delivered: list[Message]) -> Intake:
    opener = session_factory(make_engine(database_url))
    return Intake(
        open_session=opener,
        customer_message=customer_message_to(opener, delivered.append),
        read_comment=no_comments,
        settle_seconds=0,
    )


async def test_two_instances_process_each_event_once_and_in_order(database_url: str) -> None:
    events = [p.dm(f"m_{n}", f"psid-{n % 10}", f"message {n // 10}", START_MS + n) for n in range(200)]
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        # Stored newest first: the intake has to put them back in the platforms' order.
        factories.inbox_events(session, *reversed(events))
    delivered: list[Message] = []

    await asyncio.gather(intake(database_url, delivered).drain(), intake(database_url, delivered).drain())

    with Session(engine) as session:
        statuses = Counter(e.status for e in session.exec(select(InboxEvent)))
        stored = list(session.exec(select(Message).where(Message.author == Author.customer).order_by(col(Message.id))))
    engine.dispose()
    assert statuses == {InboxStatus.processed: 200}
    assert len(stored) == 200 and len(delivered) == 200
    by_conversation: dict[object, list[str]] = {}
    for message in sorted(stored, key=lambda m: (str(m.conversation_id), m.seq)):
        by_conversation.setdefault(message.conversation_id, []).append(message.text)
    assert all(texts == [f"message {n}" for n in range(20)] for texts in by_conversation.values())


class Clock:
    """The intake's time, moved on by the test alone."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_senders_reordered_pair_is_answered_in_order_amid_other_senders_traffic(database_url: str) -> None:
    # Every 0.1 s one of 25 other senders writes (as it happens, on the platform's clock too); the
    # pair's later message arrives at 1.0 s, its earlier one 0.5 s after: within the settle time.
    settle, step = timedelta(seconds=1), timedelta(milliseconds=100)
    arrivals: dict[int, list[dict[str, Any]]] = {
        n: [p.dm(f"m_other_{n}", f"psid-other-{n % 25}", f"other {n}", START_MS + 100 * n)] for n in range(40)
    }
    arrivals[10].append(p.dm("m_second", "psid-pair", "second", START_MS + 200))
    arrivals[15].append(p.dm("m_first", "psid-pair", "first", START_MS + 100))
    clock = Clock()
    arrived: dict[str, datetime] = {}
    answered: list[tuple[str, datetime]] = []

    def deliver(message: Message) -> None:
        answered.append((message.text, clock.now))

    engine = make_engine(database_url)
    opener = session_factory(engine)
    draining = Intake(
        open_session=opener,
        customer_message=customer_message_to(opener, deliver),
        read_comment=no_comments,
        settle_seconds=settle.total_seconds(),
        clock=clock,
    )
    for n in range(60):
        if n in arrivals:
            with unit_of_work(opener) as session:
                factories.inbox_events(session, *arrivals[n], received_at=clock.now)
            arrived.update((event["message"]["text"], clock.now) for event in arrivals[n])
        await draining.drain()
        clock.now += step
    engine.dispose()

    assert sorted(text for text, _ in answered) == sorted(arrived), "each message answered once"
    assert [text for text, _ in answered if text in ("first", "second")] == ["first", "second"]
    early = [text for text, at in answered if at < arrived[text] + settle]
    assert early == [], "no message is taken before its own settle time has passed"


@pytest.mark.postgres
async def test_an_event_the_database_refuses_is_kept_unprocessable_and_holds_back_no_other(postgres_url: str) -> None:
    # A NUL in a DM's text, stored as an earlier version did (PostgreSQL's json takes "\u0000", its
    # text columns refuse it): processing it fails in the database, every time.
    (refused,) = x_split(p.x_dm("6001", "4242", "with a \x00 in it", START_MS), p.BRAND_X_ID)
    engine = make_engine(postgres_url)
    with unit_of_work(session_factory(engine)) as session:
        session.add(
            InboxEvent(
                platform=refused.platform, event_key=refused.key, channel=refused.channel, sender_key=refused.sender,
                occurred_at=refused.occurred_at, raw=refused.raw,
            )
        )  # fmt: skip
        factories.inbox_events(session, p.dm("m_after", "psid-1", "and after it", START_MS + 1))
    delivered: list[Message] = []

    await intake(postgres_url, delivered).drain()

    with Session(engine) as session:
        stored = {e.event_key: (e.status, e.reason or "") for e in session.exec(select(InboxEvent))}
    engine.dispose()
    assert stored["dm:6001"][0] == InboxStatus.unprocessable and "refused" in stored["dm:6001"][1]
    assert "\x00" not in stored["dm:6001"][1]
    assert stored["m_after"] == (InboxStatus.processed, "")
    assert [m.text for m in delivered] == ["and after it"]


async def test_a_full_batch_left_pending_neither_holds_back_the_events_behind_it_nor_loops(database_url: str) -> None:
    # Three Instagram mentions whose comments the Graph API cannot give yet, in batches of two, then a DM.
    mentions = [p.instagram_mention(f"1785000000000000{n}") for n in range(3)]
    engine = make_engine(database_url)
    opener = session_factory(engine)
    with unit_of_work(opener) as session:
        factories.inbox_events(session, obj="instagram", changes=mentions)
        factories.inbox_events(session, p.dm("m_behind", "psid-1", "behind them", START_MS))
    asked: list[str] = []

    async def unreadable(comment_id: str) -> dict[str, Any]:
        asked.append(comment_id)
        raise SendFailed("the Graph API is down", retry=True)

    delivered: list[Message] = []
    draining = Intake(
        open_session=opener,
        customer_message=customer_message_to(opener, delivered.append),
        read_comment=unreadable,
        settle_seconds=0,
        batch=2,
    )

    # The guard only stops a hang from stalling the suite; nothing here is measured.
    processed = await asyncio.wait_for(draining.drain(), timeout=60)

    with Session(engine) as session:
        statuses = Counter(e.status for e in session.exec(select(InboxEvent)))
    engine.dispose()
    assert processed == 1
    assert [m.text for m in delivered] == ["behind them"]
    assert sorted(asked) == sorted(m["value"]["comment_id"] for m in mentions), "each mention tried once a round"
    assert statuses == {InboxStatus.pending: 3, InboxStatus.processed: 1}
