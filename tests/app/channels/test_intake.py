"""The intake on its own: several instances draining one inbox, in the platforms' time order."""

import asyncio
from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from app.channels import inbox
from app.channels.intake import Intake
from app.channels.meta.webhook import split
from app.channels.models import InboxEvent, InboxStatus
from app.conversations.models import Author, Message
from app.db import make_engine, session_factory, unit_of_work
from app.realtime.events import StoredMessage
from bench import platform_payloads as p

START_MS = 1_763_900_000_000


def intake(database_url: str, delivered: list[Message]) -> Intake:
    def deliver(stored: StoredMessage) -> None:
        delivered.append(stored.message)

    async def no_comments(comment_id: str) -> dict[str, Any]:
        raise AssertionError(f"no mention here, yet comment {comment_id} was read")

    return Intake(
        open_session=session_factory(make_engine(database_url)),
        deliver=deliver,
        read_comment=no_comments,
        settle_seconds=0,
    )


async def test_two_instances_process_each_event_once_and_in_order(database_url: str) -> None:
    events = [p.dm(f"m_{n}", f"psid-{n % 10}", f"message {n // 10}", START_MS + n) for n in range(200)]
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        # Stored newest first: the intake has to put them back in the platforms' order.
        inbox.store(session=session, events=split(p.page(*reversed(events))))
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
