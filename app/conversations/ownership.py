"""Who owns a conversation: the bot, the queue or one agent, and every move between them.

Ownership is checked here and nowhere else.
"""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from app.conversations import service
from app.conversations.models import Conversation, Message, Owner
from app.conversations.timeline import lock, system_event
from app.core.errors import NotConversationOwner
from app.people.models import Person


def owned_by_agent(*, session: Session, conversation_id: uuid.UUID, agent_id: int) -> Conversation:
    """The conversation, read without a lock, if the agent owns it (for what changes nothing stored)."""
    conversation = service.get(session=session, conversation_id=conversation_id)
    _check_owner(conversation, agent_id)
    return conversation


def owned_by(*, session: Session, agent_id: int) -> list[Conversation]:
    statement = select(Conversation).where(Conversation.owner == Owner.agent, Conversation.agent_id == agent_id)
    return list(session.exec(statement.order_by(col(Conversation.updated_at))))


def locked_for_owner(session: Session, conversation_id: uuid.UUID, agent_id: int) -> Conversation:
    """The conversation, locked, if the agent owns it: what only the owner may change starts here."""
    conversation = lock(session, conversation_id)
    _check_owner(conversation, agent_id)
    return conversation


def _check_owner(conversation: Conversation, agent_id: int) -> None:
    """NotConversationOwner, naming who holds it, unless the agent owns the conversation."""
    conversation_id = conversation.id
    if conversation.owner != Owner.agent or conversation.agent_id != agent_id:
        holder = f"agent {conversation.agent_id}" if conversation.owner == Owner.agent else conversation.owner
        raise NotConversationOwner(f"agent {agent_id} does not own conversation {conversation_id} (owner: {holder})")


def hand_off(*, session: Session, conversation_id: uuid.UUID, packet: dict[str, Any]) -> Message | None:
    """Move a bot conversation to the queue for a human, with the bot's handoff packet."""
    conversation = lock(session, conversation_id)
    if conversation.owner != Owner.bot:
        return None
    conversation.owner = Owner.queue
    reason = str(packet.get("reason", "unknown"))
    return system_event(
        session,
        conversation,
        f"Handed off to a human: {reason.replace('_', ' ')}",
        {"event": "handoff", "packet": packet},
        internal=True,
    )


def assign(*, session: Session, conversation_id: uuid.UUID, agent: Person) -> Message:
    """Give a queued conversation to an agent."""
    conversation = lock(session, conversation_id)
    if conversation.owner != Owner.queue:
        raise NotConversationOwner(
            f"conversation {conversation_id} is owned by {conversation.owner}, not waiting in the queue"
        )
    conversation.owner = Owner.agent
    conversation.agent_id = agent.id
    return system_event(
        session,
        conversation,
        f"{agent.name} joined the conversation",
        {"event": "assigned", "agent": {"id": agent.id, "name": agent.name}},
    )


def requeue(*, session: Session, conversation_id: uuid.UUID, reason: str) -> Message:
    """An agent's conversation goes back to the queue, as when they were lost and did not come back."""
    conversation = lock(session, conversation_id)
    if conversation.owner != Owner.agent:
        raise NotConversationOwner(f"conversation {conversation_id} is owned by {conversation.owner}, not an agent")
    previous = conversation.agent_id
    conversation.owner = Owner.queue
    conversation.agent_id = None
    return system_event(
        session,
        conversation,
        f"Back in the queue: {reason}",
        {"event": "requeued", "agent_id": previous, "reason": reason},
        internal=True,
    )


def transfer(*, session: Session, conversation_id: uuid.UUID, agent_id: int, to: str, note: str) -> Message:
    """The owning agent passes the conversation on; the note travels with it for the receiver."""
    conversation = locked_for_owner(session, conversation_id, agent_id)
    conversation.owner = Owner.queue
    conversation.agent_id = None
    return system_event(
        session,
        conversation,
        f"Transferred to {to}" + (f": {note}" if note else ""),
        {"event": "transferred", "from_agent_id": agent_id, "to": to, "note": note},
        internal=True,
    )
