"""The conversation service: who owns a conversation, and every message stored in one order.

Ownership is checked here and nowhere else. Each function locks the conversation row, so on
PostgreSQL concurrent callers queue behind each other, and on SQLite the write transaction (BEGIN
IMMEDIATE) does the same.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.agents.models import Agent
from app.conversations.models import Author, Conversation, Kind, Message, Owner, Status
from app.errors import ConversationNotFound, InvalidMessage, NotConversationOwner
from app.timestamps import utcnow

# What messages.seq holds (a 32-bit integer column): a client may name any seq it likes to resume after.
MAX_MESSAGE_SEQ = 2**31 - 1


@dataclass(frozen=True)
class DeliveryNotice:
    """What the agents should know about how a message went out: refused (queued as dead), or changed."""

    text: str
    refused: bool


# Hands a message just stored to whoever delivers it outside (the platforms' outbox), in its transaction.
Delivery = Callable[[Session, Conversation, Message], list[DeliveryNotice]]
_deliveries: list[Delivery] = []


def deliver_with(delivery: Delivery) -> None:
    """Hand every message stored from now on to `delivery`; app.channels registers its outbox here."""
    if delivery not in _deliveries:
        _deliveries.append(delivery)


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


def _lock(session: Session, conversation_id: uuid.UUID) -> Conversation:
    conversation = session.exec(_LOCK, params={"conversation_id": conversation_id}).first()
    if conversation is None:
        raise ConversationNotFound(f"conversation {conversation_id} does not exist")
    return conversation


def _append(
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
            _system_event(
                session,
                conversation,
                notice.text,
                {"event": "undelivered" if notice.refused else "delivery", "message_id": message.id},
                internal=True,
            )
    return message


def _system_event(
    session: Session, conversation: Conversation, text: str, payload: dict[str, Any], *, internal: bool = False
) -> Message:
    """Store what happened to the conversation as a system event, after its messages."""
    return _append(
        session, conversation, author=Author.system, kind=Kind.event, text=text, payload=payload, internal=internal
    )


def _existing(session: Session, conversation_id: uuid.UUID, client_message_id: str | None) -> Message | None:
    if client_message_id is None:
        return None
    return session.exec(_EXISTING, params={"conversation_id": conversation_id, "client_id": client_message_id}).first()


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
    conversation = _lock(session, conversation_id)
    existing = _existing(session, conversation_id, client_message_id)
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
    message = _append(
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
    conversation = _lock(session, conversation_id)
    if conversation.owner != Owner.bot:
        return None
    return _append(session, conversation, author=Author.bot, text=text, payload=payload)


def hand_off(*, session: Session, conversation_id: uuid.UUID, packet: dict[str, Any]) -> Message | None:
    """Move a bot conversation to the queue for a human, with the bot's handoff packet."""
    conversation = _lock(session, conversation_id)
    if conversation.owner != Owner.bot:
        return None
    conversation.owner = Owner.queue
    reason = str(packet.get("reason", "unknown"))
    return _system_event(
        session,
        conversation,
        f"Handed off to a human: {reason.replace('_', ' ')}",
        {"event": "handoff", "packet": packet},
        internal=True,
    )


def assign(*, session: Session, conversation_id: uuid.UUID, agent: Agent) -> Message:
    """Give a queued conversation to an agent."""
    conversation = _lock(session, conversation_id)
    if conversation.owner != Owner.queue:
        raise NotConversationOwner(
            f"conversation {conversation_id} is owned by {conversation.owner}, not waiting in the queue"
        )
    conversation.owner = Owner.agent
    conversation.agent_id = agent.id
    return _system_event(
        session,
        conversation,
        f"{agent.name} joined the conversation",
        {"event": "assigned", "agent": {"id": agent.id, "name": agent.name}},
    )


def requeue(*, session: Session, conversation_id: uuid.UUID, reason: str) -> Message:
    """An agent's conversation goes back to the queue, as when they were lost and did not come back."""
    conversation = _lock(session, conversation_id)
    if conversation.owner != Owner.agent:
        raise NotConversationOwner(f"conversation {conversation_id} is owned by {conversation.owner}, not an agent")
    previous = conversation.agent_id
    conversation.owner = Owner.queue
    conversation.agent_id = None
    return _system_event(
        session,
        conversation,
        f"Back in the queue: {reason}",
        {"event": "requeued", "agent_id": previous, "reason": reason},
        internal=True,
    )


def transfer(*, session: Session, conversation_id: uuid.UUID, agent_id: int, to: str, note: str) -> Message:
    """The owning agent passes the conversation on; the note travels with it for the receiver."""
    conversation = _owned_by(session, conversation_id, agent_id)
    conversation.owner = Owner.queue
    conversation.agent_id = None
    return _system_event(
        session,
        conversation,
        f"Transferred to {to}" + (f": {note}" if note else ""),
        {"event": "transferred", "from_agent_id": agent_id, "to": to, "note": note},
        internal=True,
    )


def tell_customer(*, session: Session, conversation_id: uuid.UUID, text: str, payload: dict[str, Any]) -> Message:
    """A notice from the service to the customer, such as the expected wait."""
    conversation = _lock(session, conversation_id)
    return _system_event(session, conversation, text, payload)


def owned_by_agent(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Conversation:
    """The conversation, read without a lock, if the agent owns it (for what changes nothing stored)."""
    conversation = get(session=session, conversation_id=conversation_id)
    _check_owner(conversation, agent_id)
    return conversation


def _owned_by(session: Session, conversation_id: uuid.UUID, agent_id: int) -> Conversation:
    conversation = _lock(session, conversation_id)
    _check_owner(conversation, agent_id)
    return conversation


def _check_owner(conversation: Conversation, agent_id: int) -> None:
    conversation_id = conversation.id
    if conversation.owner != Owner.agent or conversation.agent_id != agent_id:
        holder = f"agent {conversation.agent_id}" if conversation.owner == Owner.agent else conversation.owner
        raise NotConversationOwner(f"agent {agent_id} does not own conversation {conversation_id} (owner: {holder})")


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
    conversation = _owned_by(session, conversation_id, agent_id)
    existing = _existing(session, conversation_id, client_message_id)
    if existing is not None:
        return existing, False
    message = _append(
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


def hand_back(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Message:
    """The case is not closed, but the bot can take it from here (the customer's question was answered
    and they may ask more); the customer is told."""
    return _leave_to_bot(session, conversation_id, agent_id, resolved=False)


def resolve(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Message:
    """Close the case; the bot greets whatever the customer writes next."""
    return _leave_to_bot(session, conversation_id, agent_id, resolved=True)


def _leave_to_bot(session: Session, conversation_id: uuid.UUID, agent_id: int, resolved: bool) -> Message:
    conversation = _owned_by(session, conversation_id, agent_id)
    if resolved:
        conversation.status = Status.resolved
    conversation.owner = Owner.bot
    conversation.agent_id = None
    text, event = (
        ("Conversation resolved", "resolved")
        if resolved
        else ("You're back with the assistant; ask for a person at any time", "handed_back")
    )
    return _system_event(session, conversation, text, {"event": event, "agent_id": agent_id})


def rate(*, session: Session, conversation_id: uuid.UUID, score: int) -> Message:
    """Keep the customer's satisfaction rating; a later rating replaces an earlier one."""
    if score not in range(1, 6):
        raise ValueError(f"a rating is 1 to 5, not {score}")
    conversation = _lock(session, conversation_id)
    conversation.csat_score = score
    conversation.csat_at = utcnow()
    return _system_event(
        session,
        conversation,
        f"The customer rated the help {score} of 5",
        {"event": "csat", "score": score},
        internal=True,
    )


def settle_rating(*, session: Session, conversation_id: uuid.UUID, message_id: int) -> None:
    """A customer whose message after a resolve only answered the rating question leaves the case
    resolved: rating the help is not asking for more of it."""
    message = session.get(Message, message_id)
    if message is None or not (message.payload or {}).get("reopened"):
        return
    conversation = _lock(session, conversation_id)
    if conversation.owner == Owner.bot and conversation.status == Status.open:
        conversation.status = Status.resolved
        session.add(conversation)


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


def owned_by(*, session: Session, agent_id: int) -> list[Conversation]:
    statement = select(Conversation).where(Conversation.owner == Owner.agent, Conversation.agent_id == agent_id)
    return list(session.exec(statement.order_by(col(Conversation.updated_at))))


def note_undelivered(*, session: Session, conversation_id: uuid.UUID, message_id: int | None, reason: str) -> Message:
    """A reply the platform refused for good: the agents see it, with the reason, in the conversation."""
    conversation = _lock(session, conversation_id)
    return _system_event(
        session,
        conversation,
        f"Not delivered: {reason}",
        {"event": "undelivered", "message_id": message_id, "reason": reason},
        internal=True,
    )
