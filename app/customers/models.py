"""A customer and the identities by which the channels know them."""

import uuid
from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    display_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Contact details an agent recorded; a verified one that another customer also has verified is
    # the same person, and the two are linked.
    email: str | None = Field(default=None, max_length=320, index=True)
    email_verified: bool = False
    phone: str | None = Field(default=None, max_length=32, index=True)
    phone_verified: bool = False
    # Set when this customer was linked into another: everything of theirs moved there.
    merged_into: uuid.UUID | None = Field(default=None, foreign_key="customers.id")


class ChannelIdentity(SQLModel, table=True):
    """How one channel names a customer: a web chat visitor, an X user id, a Messenger PSID."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_channel_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: uuid.UUID = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=200)
    # Web chat only: SHA-256 of the visitor's bearer token; the token itself is never stored.
    secret_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
