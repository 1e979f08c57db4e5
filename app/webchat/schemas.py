"""What the web chat API accepts and returns."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints, TypeAdapter

from app.conversations.models import MessagePublic
from app.core.limits import ClientMessageId, MessageText, StrictSeq


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


class Hello(BaseModel):
    """The first frame on the customer's socket: who, and the newest message seq the page has."""

    type: Literal["hello"]
    token: str
    after_seq: StrictSeq = 0


class Typing(BaseModel):
    """The only frame a customer sends after the hello: they speak over HTTP."""

    type: Literal["typing"]
    typing: StrictBool


HELLO = TypeAdapter(Hello)
TYPING = TypeAdapter(Typing)
