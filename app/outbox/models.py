"""What we owe the social platforms, durably: the outbox.

An outbox row is written in the same transaction as the message it sends, unique by its idempotency
key, and leaves only once the platform has taken it or refused it for good.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    # Refused for good (or out of retries): shown to agents and supervisors with the reason.
    dead = "dead"


class OutboxItem(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_outbox_key"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=100)
    platform: str = Field(max_length=16)
    # dm, private_reply, comment_reply, tweet_reply: how the platform is asked to deliver it.
    kind: str = Field(max_length=32)
    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    # The ids the send needs (recipient, comment, tweet) and the text, fixed when it was queued.
    target: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    text: str = Field(sa_type=Text)
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_error: str | None = Field(default=None, max_length=1000)
    # The platform's id for what it posted, once it did.
    external_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
