"""How a person's part in a conversation ends: resolved, or handed back to the bot; and the
customer's rating of the help."""

import uuid

from sqlmodel import Session

from app.conversations.models import Message, Owner, Status
from app.conversations.ownership import locked_for_owner
from app.conversations.timeline import lock, system_event
from app.core.timestamps import utcnow


def hand_back(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Message:
    """The case is not closed, but the bot can take it from here (the customer's question was answered
    and they may ask more); the customer is told."""
    return _leave_to_bot(session, conversation_id, agent_id, resolved=False)


def resolve(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Message:
    """Close the case; the bot greets whatever the customer writes next."""
    return _leave_to_bot(session, conversation_id, agent_id, resolved=True)


def _leave_to_bot(session: Session, conversation_id: uuid.UUID, agent_id: int, resolved: bool) -> Message:
    conversation = locked_for_owner(session, conversation_id, agent_id)
    if resolved:
        conversation.status = Status.resolved
    conversation.owner = Owner.bot
    conversation.agent_id = None
    text, event = (
        ("Conversation resolved", "resolved")
        if resolved
        else ("You're back with the assistant; ask for a person at any time", "handed_back")
    )
    return system_event(session, conversation, text, {"event": event, "agent_id": agent_id})


def rate(*, session: Session, conversation_id: uuid.UUID, score: int) -> Message:
    """Keep the customer's satisfaction rating; a later rating replaces an earlier one."""
    if score not in range(1, 6):
        raise ValueError(f"a rating is 1 to 5, not {score}")
    conversation = lock(session, conversation_id)
    conversation.csat_score = score
    conversation.csat_at = utcnow()
    return system_event(
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
    conversation = lock(session, conversation_id)
    if conversation.owner == Owner.bot and conversation.status == Status.open:
        conversation.status = Status.resolved
        session.add(conversation)
