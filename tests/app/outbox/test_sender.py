"""The sender on its own: order within a conversation, and several instances sharing one outbox."""

import asyncio
import uuid

from sqlmodel import Session, col, select

from app.conversations.wire import StoredMessage
from app.core.db import make_engine, session_factory, unit_of_work
from app.outbox.models import OutboxItem, OutboxStatus
from app.outbox.queue import Delivered, SendFailed
from app.outbox.sender import RetryPolicy, Sender
from tests.support import factories


class Platform:
    """Takes every item after a short pause, as a real API does; can refuse the first try of some."""

    def __init__(self, failing_once: set[str] | None = None) -> None:
        self.taken: list[str] = []
        self._failing_once = failing_once or set()

    async def send(self, item: OutboxItem) -> Delivered:
        await asyncio.sleep(0.005)
        if item.idempotency_key in self._failing_once:
            self._failing_once.discard(item.idempotency_key)
            raise SendFailed("platform error 503", retry=True, after_seconds=0.2)
        self.taken.append(item.idempotency_key)
        return Delivered(f"sent-{len(self.taken)}")


def queue(database_url: str, conversations: int, per_conversation: int) -> list[uuid.UUID]:
    engine = make_engine(database_url)
    ids = []
    with unit_of_work(session_factory(engine)) as session:
        for _ in range(conversations):
            conversation = factories.conversation(session)
            ids.append(conversation.id)
            for n in range(per_conversation):
                session.add(
                    OutboxItem(
                        idempotency_key=f"{conversation.id}:{n}",
                        platform="meta",
                        kind="dm",
                        conversation_id=conversation.id,
                        target={"recipient_id": "u"},
                        text=f"reply {n}",
                    )
                )
    engine.dispose()
    return ids


def sender(database_url: str, platform: Platform) -> Sender:
    def ignore(_stored: StoredMessage) -> None:
        return None

    return Sender(
        open_session=session_factory(make_engine(database_url)),
        clients={"meta": platform},
        policy=RetryPolicy(base_seconds=0.1),
        notify=ignore,
    )


async def until_all_sent(database_url: str, senders: list[Sender], seconds: float = 30) -> None:
    engine = make_engine(database_url)
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.gather(*(s.drain() for s in senders))
            with Session(engine) as session:
                if session.exec(select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.pending)).first() is None:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the outbox was not emptied in time")
    finally:
        engine.dispose()


async def test_two_instances_share_the_outbox_and_send_each_reply_once(database_url: str) -> None:
    queue(database_url, conversations=20, per_conversation=5)
    first, second = Platform(), Platform()

    await until_all_sent(database_url, [sender(database_url, first), sender(database_url, second)])

    taken = first.taken + second.taken
    assert len(taken) == 100 and len(set(taken)) == 100


async def test_a_failed_reply_holds_back_the_later_ones_of_its_conversation(database_url: str) -> None:
    (conversation,) = queue(database_url, conversations=1, per_conversation=3)
    platform = Platform(failing_once={f"{conversation}:0"})

    await until_all_sent(database_url, [sender(database_url, platform)])

    assert platform.taken == [f"{conversation}:{n}" for n in range(3)]
    engine = make_engine(database_url)
    with Session(engine) as session:
        attempts = [i.attempts for i in session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))]
    engine.dispose()
    assert attempts == [2, 1, 1]
