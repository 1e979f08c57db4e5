"""What a conversation's messages look like on the websockets, and how a stored one reaches them:
stored in the owning agent's feed in its transaction, delivered after the commit."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.conversations.models import Conversation, ConversationPublic, Message, MessagePublic, Owner
from app.realtime import feed
from app.realtime.hub import Hub
from app.realtime.models import Addressed, Event, Numbered


def message_event(message: Message) -> Event:
    return {
        "type": "message",
        "conversation_id": str(message.conversation_id),
        "message": MessagePublic.of(message).model_dump(mode="json"),
    }


def conversation_view(conversation: Conversation, history: Sequence[Message]) -> dict[str, Any]:
    return {
        "conversation": ConversationPublic.of(conversation).model_dump(mode="json"),
        "history": [MessagePublic.of(m).model_dump(mode="json") for m in history],
    }


@dataclass(frozen=True)
class StoredMessage:
    """A message just stored, its event already stored in the owning agent's feed in the same
    transaction: to deliver once that commits."""

    conversation: Conversation
    message: Message
    event: Event
    numbered: Numbered


def store_message_event(session: Session, conversation: Conversation, message: Message) -> StoredMessage:
    """Store a new message's event in the feed of the agent who has the conversation, notes included."""
    event = message_event(message)
    addressed: Addressed = []
    if conversation.owner == Owner.agent and conversation.agent_id is not None:
        addressed.append((conversation.agent_id, event))
    return StoredMessage(conversation, message, event, feed.number_and_store(session, addressed))


def publish_message(hub: Hub, stored: StoredMessage) -> None:
    """Deliver a stored message to whoever follows it: the customer (unless internal) and the owning agent."""
    if not stored.message.internal:
        hub.to_conversation(stored.conversation.id, stored.event)
    hub.to_agents(stored.numbered)
