"""Every conversation's one order: its row locked, each entry appended with the next `seq`.

Every change to a conversation locks its row first, so on PostgreSQL concurrent callers queue
behind each other, and on SQLite the write transaction (BEGIN IMMEDIATE) does the same: customer
and agent see one gapless order. Each message stored is handed, in its transaction, to whoever
delivers messages outside (the platforms' outbox registers here).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.conversations.models import Author, Conversation, Kind, Message
from app.core.errors import ConversationNotFound
from app.core.timestamps import utcnow


@dataclass(frozen=True)
class DeliveryNotice:
    """What the agents should know about how a message went out: refused (queued as dead), or changed."""

    text: str
    refused: bool


# Hands a message just stored to whoever delivers it outside (the platforms' outbox), in its transaction.
Delivery = Callable[[Session, Conversation, Message], list[DeliveryNotice]]
_deliveries: list[Delivery] = []


def deliver_with(delivery: Delivery) -> None:
    """Hand every message stored from now on to `delivery`; app.outbox registers its queue here."""
    if delivery not in _deliveries:
        _deliveries.append(delivery)


# Built once: building and keying a statement cost as much as running it, on every customer message.
_LOCK = (
    select(Conversation)
    .where(Conversation.id == bindparam("conversation_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_EXISTING = select(Message).where(
    Message.conversation_id == bindparam("conversation_id"), Message.client_message_id == bindparam("client_id")
)


def lock(session: Session, conversation_id: uuid.UUID) -> Conversation:
    """The conversation, its row locked until the transaction ends: every change comes through here."""
    conversation = session.exec(_LOCK, params={"conversation_id": conversation_id}).first()
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} does not exist")
    return conversation


def append(
    session: Session,
    conversation: Conversation,
    *,
    author: Author,
    text: str,
    kind: Kind = Kind.text,
    payload: dict[str, Any] | None = None,
    internal: bool = False,
    agent_id: int | None = None,
    client_message_id: str | None = None,
    handled: bool = True,
) -> Message:
    """Store an entry with the conversation's next `seq` and hand it to the deliveries, which may add
    a system event of their own after it."""
    now = utcnow()
    conversation.last_seq += 1
    conversation.updated_at = now
    message = Message(
        conversation_id=conversation.id,
        seq=conversation.last_seq,
        author=author,
        kind=kind,
        text=text,
        payload=payload,
        internal=internal,
        agent_id=agent_id,
        client_message_id=client_message_id,
        handled_at=now if handled else None,
        created_at=now,
    )
    session.add(conversation)
    session.add(message)
    session.flush()
    for delivery in _deliveries:
        for notice in delivery(session, conversation, message):
            system_event(
                session,
                conversation,
                notice.text,
                {"event": "undelivered" if notice.refused else "delivery", "message_id": message.id},
                internal=True,
            )
    return message


def system_event(
    session: Session, conversation: Conversation, text: str, payload: dict[str, Any], *, internal: bool = False
) -> Message:
    """Store what happened to the conversation as a system event, after its messages."""
    return append(
        session, conversation, author=Author.system, kind=Kind.event, text=text, payload=payload, internal=internal
    )


def already_stored(session: Session, conversation_id: uuid.UUID, client_message_id: str | None) -> Message | None:
    """The message stored earlier under this client message id, which a retried send must not repeat."""
    if client_message_id is None:
        return None
    return session.exec(_EXISTING, params={"conversation_id": conversation_id, "client_id": client_message_id}).first()
