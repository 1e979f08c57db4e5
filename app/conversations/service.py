"""Conversations opened, found and read: the bot owns every new one; what was said comes back in order."""

import uuid

from sqlmodel import Session, col, select

from app.conversations.models import Author, Conversation, Message
from app.core.errors import ConversationNotFound

# What messages.seq holds (a 32-bit integer column): a client may name any seq it likes to resume after.
MAX_MESSAGE_SEQ = 2**31 - 1


def create(*, session: Session, customer_id: uuid.UUID, channel: str) -> Conversation:
    """Open a conversation; the bot owns every new conversation."""
    conversation = Conversation(customer_id=customer_id, channel=channel)
    session.add(conversation)
    session.flush()
    return conversation


def latest(*, session: Session, customer_id: uuid.UUID, channel: str) -> Conversation | None:
    """The customer's most recent conversation on a channel; a new message there continues it."""
    statement = select(Conversation).where(Conversation.customer_id == customer_id, Conversation.channel == channel)
    return session.exec(statement.order_by(col(Conversation.created_at).desc())).first()


def get(*, session: Session, conversation_id: uuid.UUID) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} does not exist")
    return conversation


def history(
    *, session: Session, conversation_id: uuid.UUID, after_seq: int = 0, include_internal: bool = False
) -> list[Message]:
    """Messages after `after_seq`, in order; customers never see internal entries."""
    get(session=session, conversation_id=conversation_id)
    if after_seq >= MAX_MESSAGE_SEQ:  # after every message; PostgreSQL would refuse the comparison
        return []
    statement = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
    if not include_internal:
        statement = statement.where(col(Message.internal).is_(False))
    return list(session.exec(statement.order_by(col(Message.seq))))


def customer_texts(*, session: Session, conversation_id: uuid.UUID, last: int = 10) -> list[str]:
    """What the customer wrote most recently, oldest first: enough to tell their language."""
    statement = (
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.author == Author.customer)
        .order_by(col(Message.seq).desc())
        .limit(last)
    )
    return list(reversed(session.exec(statement).all()))
