"""What the web chat API accepts and returns."""

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.conversations.models import MessagePublic

MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ClientMessageId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class SessionCreate(BaseModel):
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class SessionCreated(BaseModel):
    customer_id: uuid.UUID
    conversation_id: uuid.UUID
    # Shown once: the page keeps it to send messages and to reconnect after a reload.
    token: str


class MessageCreate(BaseModel):
    text: MessageText
    client_message_id: ClientMessageId = Field(
        description="Chosen by the client; sending the same id again returns the first message"
    )


class MessageList(BaseModel):
    messages: list[MessagePublic]


class Feedback(BaseModel):
    helpful: bool
