"""Messages stored in a conversation: the customer's, the bot's, the agents' and the service's notices,
and which of the customer's the bot has still to handle.

A repeated client message id returns the first message and stores nothing; only the owning agent
may write in a conversation.
"""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from app.conversations.models import Author, Kind, Message, Owner, Status
from app.conversations.ownership import locked_for_owner
from app.conversations.timeline import already_stored, append, lock, system_event
from app.core.errors import InvalidMessage
from app.core.timestamps import utcnow


def add_customer_message(
    *,
    session: Session,
    conversation_id: uuid.UUID,
    text: str,
    client_message_id: str | None,
    payload: dict[str, Any] | None = None,
    handled: bool = False,
) -> tuple[Message, bool]:
    """Store what the customer wrote; a repeated client id returns the first message, stores nothing."""
    conversation = lock(session, conversation_id)
    existing = already_stored(session, conversation_id, client_message_id)
    if existing is not None:
        return existing, False
    reopened = conversation.status == Status.resolved
    if reopened:
        conversation.status = Status.open
        conversation.owner = Owner.bot
        # Marked, so an answer to the rating question can close the case again (`settle_rating`).
        payload = {**(payload or {}), "reopened": True}
    # Only the bot needs to act on a customer message later; a queued or owned conversation's
    # message is done once stored and delivered to the agent.
    message = append(
        session,
        conversation,
        author=Author.customer,
        text=text,
        payload=payload,
        client_message_id=client_message_id,
        handled=handled or conversation.owner != Owner.bot,
    )
    return message, True


def add_bot_reply(
    *, session: Session, conversation_id: uuid.UUID, text: str, payload: dict[str, Any] | None = None
) -> Message | None:
    """Store a bot reply, unless the bot no longer owns the conversation: then it is dropped unsent."""
    conversation = lock(session, conversation_id)
    if conversation.owner != Owner.bot:
        return None
    return append(session, conversation, author=Author.bot, text=text, payload=payload)


def add_agent_message(
    *,
    session: Session,
    conversation_id: uuid.UUID,
    agent_id: int,
    text: str,
    client_message_id: str | None,
    note: bool = False,
) -> tuple[Message, bool]:
    """Store an agent's reply, or a private note only agents see; only the owning agent may write in a
    conversation."""
    conversation = locked_for_owner(session, conversation_id, agent_id)
    existing = already_stored(session, conversation_id, client_message_id)
    if existing is not None:
        return existing, False
    message = append(
        session,
        conversation,
        author=Author.agent,
        kind=Kind.note if note else Kind.text,
        text=text,
        agent_id=agent_id,
        client_message_id=client_message_id,
        internal=note,
    )
    return message, True


def tell_customer(*, session: Session, conversation_id: uuid.UUID, text: str, payload: dict[str, Any]) -> Message:
    """A notice from the service to the customer, such as the expected wait."""
    conversation = lock(session, conversation_id)
    return system_event(session, conversation, text, payload)


def note_undelivered(*, session: Session, conversation_id: uuid.UUID, message_id: int | None, reason: str) -> Message:
    """A reply the platform refused for good: the agents see it, with the reason, in the conversation."""
    conversation = lock(session, conversation_id)
    return system_event(
        session,
        conversation,
        f"Not delivered: {reason}",
        {"event": "undelivered", "message_id": message_id, "reason": reason},
        internal=True,
    )


def next_unhandled(*, session: Session, conversation_id: uuid.UUID) -> Message | None:
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id, col(Message.handled_at).is_(None))
        .order_by(col(Message.seq))
    )
    return session.exec(statement).first()


def mark_handled(*, session: Session, message_id: int) -> None:
    message = session.get(Message, message_id)
    if message is None:
        raise InvalidMessage(f"message {message_id} does not exist")
    message.handled_at = utcnow()
    session.add(message)


def with_unhandled_messages(*, session: Session) -> list[uuid.UUID]:
    """Conversations with customer messages stored but not yet handled, as after a crash."""
    statement = select(Message.conversation_id).where(col(Message.handled_at).is_(None)).distinct()
    return list(session.exec(statement))
