"""Conversations, their ordered messages, and the shapes the API shows of them."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class Owner(StrEnum):
    """Who may speak for the brand in a conversation right now."""

    bot = "bot"
    queue = "queue"
    agent = "agent"


class Status(StrEnum):
    open = "open"
    resolved = "resolved"


class Author(StrEnum):
    customer = "customer"
    bot = "bot"
    agent = "agent"
    system = "system"


class Kind(StrEnum):
    text = "text"
    event = "event"
    # An agent's private note: internal, never sent to the customer.
    note = "note"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=32)
    status: Status = Field(default=Status.open, sa_type=String(16))
    owner: Owner = Field(default=Owner.bot, sa_type=String(16), index=True)
    agent_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    # Highest seq handed out so far; the row lock on the conversation serialises new messages.
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The customer's rating (1 to 5) of the help they got, asked by the bot after a person resolved it.
    csat_score: int | None = None
    csat_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Message(SQLModel, table=True):
    """Everything that happens in a conversation, in the one order everybody sees it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_message_seq"),
        UniqueConstraint("conversation_id", "client_message_id", name="uq_message_client_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", index=True)
    seq: int
    author: Author = Field(sa_type=String(16))
    agent_id: int | None = Field(default=None, foreign_key="people.id")
    kind: Kind = Field(default=Kind.text, sa_type=String(16))
    text: str = Field(sa_type=Text)
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Internal entries (handoff packets, offers) are shown to agents, never to the customer.
    internal: bool = False
    client_message_id: str | None = Field(default=None, max_length=64)
    # For customer messages: when the bot or the router finished with it. Unhandled ones are
    # picked up again after a restart.
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class MessagePublic(BaseModel):
    id: int
    conversation_id: uuid.UUID
    seq: int
    author: Author
    kind: Kind
    text: str
    payload: dict[str, Any] | None
    internal: bool
    client_message_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> "MessagePublic":
        assert message.id is not None, "a message is public only once stored"
        return cls.model_validate(message, from_attributes=True)


class ConversationPublic(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    channel: str
    status: Status
    owner: Owner
    agent_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, conversation: Conversation) -> "ConversationPublic":
        return cls.model_validate(conversation, from_attributes=True)
