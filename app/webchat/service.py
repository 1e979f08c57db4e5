"""Web chat: visitors, their conversations, and proving a visitor may see one."""

import uuid

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.conversations import service as conversations
from app.conversations.models import Conversation
from app.core.channel_names import WEBCHAT
from app.core.errors import ConversationNotFound
from app.core.security import hash_token
from app.customers import service as customers
from app.customers.models import ChannelIdentity

CHANNEL = WEBCHAT


def start_session(*, session: Session, display_name: str | None) -> tuple[Conversation, str]:
    """A new visitor with their first conversation, and the token that proves who they are."""
    identity, token = customers.create_webchat_visitor(session=session, display_name=display_name)
    conversation = conversations.create(session=session, customer_id=identity.customer_id, channel=CHANNEL)
    return conversation, token


# Built once: it runs on every message a visitor sends.
_VISIBLE = (
    select(Conversation)
    .join(ChannelIdentity, col(ChannelIdentity.customer_id) == col(Conversation.customer_id))
    .where(
        Conversation.id == bindparam("conversation_id"),
        ChannelIdentity.channel == CHANNEL,
        ChannelIdentity.secret_hash == bindparam("secret_hash"),
    )
)


def authorize(*, session: Session, token: str, conversation_id: uuid.UUID) -> Conversation:
    """The conversation, if this visitor's token may see it; someone else's looks the same as none.
    One query on every message a visitor sends; a second only to say which of the two was wrong."""
    params = {"conversation_id": conversation_id, "secret_hash": hash_token(token)}
    conversation = session.exec(_VISIBLE, params=params).first()
    if conversation is None:
        customers.authenticate_webchat(session=session, token=token)
        raise ConversationNotFound(f"conversation {conversation_id} does not exist")
    return conversation
