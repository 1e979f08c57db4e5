"""The events sent over websockets, built in one place so customers and agents see the same shapes."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.assignment.models import Alert
from app.conversations.models import Conversation, ConversationPublic, Message, MessagePublic, Owner
from app.realtime import feed
from app.realtime.hub import Hub
from app.realtime.models import Event, Kept, News
from routing import Offer


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


def offer_event(offer: Offer, reason: str, view: dict[str, Any]) -> Event:
    """An offer with everything needed to decide: the whole history, the handoff packet included."""
    return {
        "type": "offer",
        "offer": {
            "id": offer.offer_id,
            "conversation_id": offer.work_id,
            "expires_at": offer.expires_at.isoformat(),
            "reason": reason,
        },
        **view,
    }


def offer_closed_event(offer_id: int, status: str) -> Event:
    return {"type": "offer_withdrawn", "offer_id": offer_id, "status": status}


def alert_event(alert: Alert) -> Event:
    return {
        "type": "alert",
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "message": alert.message,
            "conversation_id": str(alert.conversation_id) if alert.conversation_id else None,
            "agent_id": alert.agent_id,
            "created_at": alert.created_at.isoformat(),
        },
    }


@dataclass(frozen=True)
class StoredMessage:
    """A message just stored, its event already kept in the owning agent's feed in the same
    transaction: to deliver once that commits."""

    conversation: Conversation
    message: Message
    event: Event
    kept: Kept


def keep_message(session: Session, conversation: Conversation, message: Message) -> StoredMessage:
    """Keep a new message's event in the feed of the agent who has the conversation, notes included."""
    event = message_event(message)
    news: News = []
    if conversation.owner == Owner.agent and conversation.agent_id is not None:
        news.append((conversation.agent_id, event))
    return StoredMessage(conversation, message, event, feed.keep(session, news))


def publish_message(hub: Hub, stored: StoredMessage) -> None:
    """Deliver a stored message to whoever follows it: the customer (unless internal) and the owning agent."""
    if not stored.message.internal:
        hub.to_conversation(stored.conversation.id, stored.event)
    hub.to_agents(stored.kept)
