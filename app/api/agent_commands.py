"""Commands an agent's console sends over its websocket. Each carries an id the answer echoes."""

import uuid
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, model_validator

from app.core.limits import ClientMessageId, MessageText, RowId, StrictSeq

COMMAND_ID_MAX = 64
CommandId = Annotated[str, StringConstraints(min_length=1, max_length=COMMAND_ID_MAX)]


class Hello(BaseModel):
    """The first frame. No token: the console's session cookie signs the socket in."""

    type: Literal["hello"]
    token: str | None = None
    after_seq: StrictSeq | None = None


HELLO = TypeAdapter(Hello)


class Accept(BaseModel):
    id: CommandId
    type: Literal["accept"]
    offer_id: RowId


class Decline(BaseModel):
    id: CommandId
    type: Literal["decline"]
    offer_id: RowId


class Send(BaseModel):
    id: CommandId
    type: Literal["send"]
    conversation_id: uuid.UUID
    text: MessageText
    client_message_id: ClientMessageId | None = None


class Note(BaseModel):
    """A private note in the conversation: agents and supervisors see it, the customer never does."""

    id: CommandId
    type: Literal["note"]
    conversation_id: uuid.UUID
    text: MessageText
    client_message_id: ClientMessageId | None = None


class Typing(BaseModel):
    id: CommandId
    type: Literal["typing"]
    conversation_id: uuid.UUID
    typing: bool


class Resolve(BaseModel):
    id: CommandId
    type: Literal["resolve"]
    conversation_id: uuid.UUID


class HandBack(BaseModel):
    """Back to the bot without closing the case."""

    id: CommandId
    type: Literal["hand_back"]
    conversation_id: uuid.UUID


class TransferTarget(BaseModel):
    """To one agent or to a team, with a note the receiver reads first."""

    to_agent_id: RowId | None = None
    to_team: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.to_agent_id is None) == (self.to_team is None):
            raise ValueError("give exactly one of to_agent_id and to_team")
        return self


class Transfer(TransferTarget):
    id: CommandId
    type: Literal["transfer"]
    conversation_id: uuid.UUID


class SetStatus(BaseModel):
    id: CommandId
    type: Literal["set_status"]
    status: Literal["online", "away"]


Command = Annotated[
    Accept | Decline | Send | Note | Typing | Resolve | HandBack | Transfer | SetStatus, Field(discriminator="type")
]
COMMAND = TypeAdapter[Command](Command)
