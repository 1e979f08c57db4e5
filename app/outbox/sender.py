"""Sends the outbox to the platforms: in order within a conversation, with retries that back off, and
a dead-letter state, with the reason, for what can never be sent."""

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Protocol

from anyio import CapacityLimiter
from sqlmodel import Session, col, select

from app.conversations import messages
from app.conversations import service as conversations
from app.conversations.wire import StoredMessage, store_message_event
from app.core.db import SessionFactory, run_in_session
from app.core.drain import DrainLoop
from app.core.timestamps import utcnow
from app.customers import service as customers
from app.outbox.models import OutboxItem, OutboxStatus
from app.outbox.queue import Delivered, SendFailed

log = logging.getLogger(__name__)

BATCH = 100
# How long an instance holds the items it is sending; past it (the instance died), another sends them.
LEASE = timedelta(seconds=60)


class PlatformClient(Protocol):
    async def send(self, item: OutboxItem) -> Delivered: ...


class RetryPolicy:
    """Exponential backoff with jitter, so retries after an outage do not arrive all at once."""

    def __init__(self, *, max_attempts: int = 8, base_seconds: float = 1.0, cap_seconds: float = 300.0) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds

    def delay(self, attempts: int) -> float:
        backoff: float = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return backoff * random.uniform(0.5, 1.5)


class Sender:
    """Drains the outbox; `notify` delivers, live, the note a reply that died leaves for the agents."""

    def __init__(
        self,
        *,
        open_session: SessionFactory,
        clients: dict[str, PlatformClient],
        policy: RetryPolicy,
        notify: Callable[[StoredMessage], None],
        idle_seconds: float = 1.0,
        limiter: CapacityLimiter | None = None,
    ) -> None:
        self._limiter = limiter
        self._open_session = open_session
        self._clients = clients
        self._policy = policy
        self._notify = notify
        self._loop = DrainLoop(self.drain, idle_seconds=idle_seconds, log=log, failed_event="outbox_drain_failed")

    def wake(self) -> None:
        self._loop.wake()

    async def stop(self, task: "asyncio.Task[None]", seconds: float = 10.0) -> None:
        """Finish the send in flight before stopping: cut off between the platform's answer and its
        record, a reply would be sent again after the restart."""
        self._loop.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run_forever(self) -> None:
        await self._loop.run_forever()

    async def drain(self) -> int:
        """Send every pending item that is due; returns how many were sent."""
        items = await run_in_session(self._open_session, _lease, self._limiter)
        held: set[uuid.UUID] = set()
        sent = 0
        for item in items:
            # A later reply never overtakes an earlier one that failed: it waits behind it.
            if self._loop.stopping or item.conversation_id in held:
                await run_in_session(self._open_session, partial(_release, item_id=item.id), self._limiter)
                continue
            client = self._clients.get(item.platform)
            try:
                if client is None:
                    raise SendFailed(f"no client for {item.platform}", retry=False)
                delivered = await client.send(item)
            except SendFailed as failure:
                held.add(item.conversation_id)
                await self._failed(item, failure)
                continue
            await run_in_session(self._open_session, partial(_sent, item=item, delivered=delivered), self._limiter)
            sent += 1
        return sent

    async def _failed(self, item: OutboxItem, failure: SendFailed) -> None:
        attempts = item.attempts + 1
        dead = not failure.retry or attempts >= self._policy.max_attempts
        delay = failure.after_seconds if failure.after_seconds is not None else self._policy.delay(attempts)
        reason = (
            failure.reason if not failure.retry or not dead else f"gave up after {attempts} attempts: {failure.reason}"
        )

        def record(session: Session) -> StoredMessage | None:
            stored = session.get(OutboxItem, item.id)
            if stored is None or stored.status != OutboxStatus.pending:
                return None
            stored.attempts = attempts
            stored.last_error = reason[:1000]
            if not dead:
                stored.next_attempt_at = utcnow() + timedelta(seconds=delay)
                session.add(stored)
                return None
            stored.status = OutboxStatus.dead
            session.add(stored)
            note = messages.note_undelivered(
                session=session, conversation_id=stored.conversation_id, message_id=stored.message_id, reason=reason
            )
            conversation = conversations.get(session=session, conversation_id=stored.conversation_id)
            return store_message_event(session, conversation, note)

        noted = await run_in_session(self._open_session, record, self._limiter)
        log.warning(
            "event=outbox_send_failed item=%s platform=%s kind=%s attempts=%d dead=%s reason=%s",
            item.id,
            item.platform,
            item.kind,
            attempts,
            dead,
            failure.reason,
        )
        if noted is not None:
            self._notify(noted)
            # The replies held behind the dead one are due again: the next round sends them now.
            self.wake()


def _lease(session: Session) -> list[OutboxItem]:
    """Due items, in order, each held for `LEASE` so another instance leaves it alone; one that is
    not due yet holds back the later items of its conversation."""
    now = utcnow()
    statement = select(OutboxItem).where(OutboxItem.status == OutboxStatus.pending).order_by(col(OutboxItem.id))
    # PostgreSQL: rows another instance is leasing right now are skipped (SQLite has one writer anyway).
    pending = session.exec(statement.limit(BATCH).with_for_update(skip_locked=True))
    waiting: set[uuid.UUID] = set()
    leased = []
    for item in pending:
        if item.conversation_id in waiting or item.next_attempt_at > now:
            waiting.add(item.conversation_id)
            continue
        item.next_attempt_at = now + LEASE
        session.add(item)
        leased.append(item)
    return leased


def _release(session: Session, *, item_id: int | None) -> None:
    item = session.get(OutboxItem, item_id)
    if item is not None and item.status == OutboxStatus.pending:
        item.next_attempt_at = utcnow()
        session.add(item)


def _sent(session: Session, *, item: OutboxItem, delivered: Delivered) -> None:
    stored = session.get(OutboxItem, item.id)
    if stored is None:
        return
    stored.status = OutboxStatus.sent
    stored.external_id = delivered.external_id[:200]
    stored.attempts = item.attempts + 1
    stored.sent_at = utcnow()
    session.add(stored)
    if item.kind == "private_reply" and delivered.recipient_id:
        try:
            # In a savepoint: whatever goes wrong here, the reply stays recorded as sent, never sent twice.
            with session.begin_nested():
                _meet_in_messenger(session, stored, delivered.recipient_id)
        except Exception:
            log.exception("event=private_reply_recipient_not_linked item=%s", item.id)


def _meet_in_messenger(session: Session, item: OutboxItem, recipient_id: str) -> None:
    """A commenter's Messenger id, as Meta answered the private reply, joins their customer: when
    they answer in Messenger, they are in the conversation that already holds their case.

    If that id is already another customer's, Meta has just said the two are one person, who wrote
    to the page in Messenger before: the commenter is linked into that customer, case and all. An
    answer continues their newest Messenger conversation: the case, unless they wrote to the page in
    Messenger again between the comment and this reply."""
    conversation = conversations.get(session=session, conversation_id=item.conversation_id)
    commenter = customers.current(session=session, customer_id=conversation.customer_id)
    if customers.add_identity(
        session=session, customer_id=commenter.id, channel=conversation.channel, external_id=recipient_id
    ):
        return
    known = customers.find_identity(session=session, channel=conversation.channel, external_id=recipient_id)
    if known is None:
        return
    owner = customers.current(session=session, customer_id=known.customer_id)
    if owner.id != commenter.id:
        customers.link(session=session, keep_id=owner.id, merge_id=commenter.id)
        log.info("event=commenter_linked customer=%s into=%s conversation=%s", commenter.id, owner.id, conversation.id)


def listed(*, session: Session, status: OutboxStatus, limit: int = 100) -> list[OutboxItem]:
    statement = select(OutboxItem).where(OutboxItem.status == status).order_by(col(OutboxItem.id).desc())
    return list(session.exec(statement.limit(limit)))


def retry(*, session: Session, item_id: int) -> OutboxItem | None:
    """A supervisor sends a dead item again (after fixing a token, say)."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.status != OutboxStatus.dead:
        return None
    item.status = OutboxStatus.pending
    item.attempts = 0
    item.next_attempt_at = utcnow()
    session.add(item)
    return item
