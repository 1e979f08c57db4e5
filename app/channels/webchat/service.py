"""Web chat: visitors, their conversations, and proving a visitor may see one."""

import uuid

from sqlmodel import Session

from app.conversations import service as conversations
from app.conversations.models import Conversation
from app.customers import service as customers
from app.errors import ConversationNotFound

CHANNEL = customers.WEBCHAT


def start_session(*, session: Session, display_name: str | None) -> tuple[Conversation, str]:
    """A new visitor with their first conversation, and the token that proves who they are."""
    identity, token = customers.create_webchat_visitor(session=session, display_name=display_name)
    conversation = conversations.create(session=session, customer_id=identity.customer_id, channel=CHANNEL)
    return conversation, token


def authorize(*, session: Session, token: str, conversation_id: uuid.UUID) -> Conversation:
    """The conversation, if this visitor's token may see it; someone else's looks the same as none."""
    identity = customers.authenticate_webchat(session=session, token=token)
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.customer_id != identity.customer_id:
        raise ConversationNotFound(f"conversation {conversation_id} does not exist")
    return conversation
