"""The web chat API: start a session, send messages over HTTP, follow the conversation live."""

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from app.api import frames
from app.api.deps import BearerToken, ClientAddress, ServicesDep
from app.api.openapi import refusals
from app.conversations import messages
from app.conversations import service as conversations
from app.conversations.models import Conversation, Message, MessagePublic
from app.conversations.wire import message_event
from app.core.db import run_in_session
from app.core.errors import DomainError, Unauthorized
from app.core.limits import RowId, Seq
from app.core.timestamps import utcnow
from app.kb import insights
from app.realtime.hub import Subscriber
from app.realtime.models import Event
from app.webchat import service as webchat
from app.webchat.limits import Limits, admit_message, admit_session
from app.webchat.schemas import (
    HELLO,
    TYPING,
    Feedback,
    MessageCreate,
    MessageList,
    SessionCreate,
    SessionCreated,
)

router = APIRouter(tags=["web chat"])

HELLO_TIMEOUT_SECONDS = 10.0
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


@router.post("/api/chat/sessions", status_code=201, responses=refusals(429))
async def start_session(
    services: ServicesDep, address: ClientAddress, body: SessionCreate | None = None
) -> SessionCreated:
    """Start a web chat: a new visitor and their first conversation, owned by the bot. Too many from
    one address answer 429 with Retry-After."""
    display_name = body.display_name if body else None
    limits = Limits.of(services.settings)
    now = utcnow()

    def start(session: Session) -> tuple[Conversation, str]:
        admit_session(session=session, limits=limits, address=address, now=now)
        return webchat.start_session(session=session, display_name=display_name)

    conversation, token = await run_in_session(services.open_session, start)
    return SessionCreated(customer_id=conversation.customer_id, conversation_id=conversation.id, token=token)


@router.get("/api/chat/conversations/{conversation_id}/messages")
async def list_messages(
    conversation_id: uuid.UUID,
    services: ServicesDep,
    token: BearerToken,
    after_seq: Annotated[Seq, Query()] = 0,
) -> MessageList:
    """The conversation as the customer sees it, after a sequence number."""

    def read(session: Session) -> list[Message]:
        webchat.authorize(session=session, token=token, conversation_id=conversation_id)
        return conversations.history(session=session, conversation_id=conversation_id, after_seq=after_seq)

    messages = await run_in_session(services.open_session, read)
    return MessageList(messages=[MessagePublic.of(m) for m in messages])


@router.post(
    "/api/chat/conversations/{conversation_id}/messages",
    status_code=201,
    responses=refusals(429),
)
async def send_message(
    conversation_id: uuid.UUID,
    body: MessageCreate,
    response: Response,
    services: ServicesDep,
    token: BearerToken,
    address: ClientAddress,
) -> MessagePublic:
    """Send a customer message; it is stored before this answers. A repeated client id answers 200.
    Too many from one visitor or address answer 429 with Retry-After: stored nowhere, the bot not asked."""
    limits = Limits.of(services.settings)
    now = utcnow()

    def store(session: Session) -> tuple[Message, list[tuple[Conversation, Message]]]:
        # The same object as the one the message updates: it is the row as the message left it.
        conversation = webchat.authorize(session=session, token=token, conversation_id=conversation_id)
        admit_message(session=session, limits=limits, customer_id=conversation.customer_id, address=address, now=now)
        message, created = messages.add_customer_message(
            session=session,
            conversation_id=conversation_id,
            text=body.text,
            client_message_id=body.client_message_id,
        )
        return message, [(conversation, message)] if created else []

    message, created = await services.conversation_flows.customer_message(store)
    if not created:
        response.status_code = 200
    return MessagePublic.of(message)


@router.post("/api/chat/conversations/{conversation_id}/messages/{message_id}/feedback")
async def answer_feedback(
    conversation_id: uuid.UUID, message_id: RowId, body: Feedback, services: ServicesDep, token: BearerToken
) -> Feedback:
    """The customer says whether a bot answer helped; knowledge managers see it per article."""

    def record_feedback(session: Session) -> None:
        webchat.authorize(session=session, token=token, conversation_id=conversation_id)
        insights.give_feedback(
            session=session, conversation_id=conversation_id, message_id=message_id, helpful=body.helpful
        )

    await run_in_session(services.open_session, record_feedback)
    return body


@router.websocket("/ws/chat/{conversation_id}")
async def follow_conversation(websocket: WebSocket, conversation_id: uuid.UUID, services: ServicesDep) -> None:
    """Live messages of one conversation. First frame: {"type": "hello", "token": ..., "after_seq": n}."""
    await websocket.accept()
    try:
        frame = await asyncio.wait_for(frames.receive(websocket), HELLO_TIMEOUT_SECONDS)
        hello = frames.validate(HELLO, frame)
    except TimeoutError:
        await websocket.close(CLOSE_BAD_FRAME, "expected a hello frame first: none came within 10 seconds")
        return
    except frames.BadFrame as exc:
        await frames.close(websocket, CLOSE_BAD_FRAME, f"expected a hello frame first: {exc.detail}")
        return
    except WebSocketDisconnect:
        return
    token = hello.token
    high_water = after_seq = hello.after_seq

    async def send(event: Event) -> None:
        nonlocal high_water
        if event.get("type") != "message":  # typing and errors: not part of the history
            await websocket.send_json(event)
            return
        seq = event["message"]["seq"]
        if seq > high_water:
            high_water = seq
            await websocket.send_json(event)

    subscriber = Subscriber(send=send, close=websocket.close, gone=(WebSocketDisconnect,))
    services.hub.follow_conversation(conversation_id, subscriber)
    try:

        def backlog(session: Session) -> list[Message]:
            webchat.authorize(session=session, token=token, conversation_id=conversation_id)
            return conversations.history(session=session, conversation_id=conversation_id, after_seq=after_seq)

        try:
            missed = await run_in_session(services.open_session, backlog)
        except DomainError as exc:
            code = CLOSE_UNAUTHORIZED if isinstance(exc, Unauthorized) else CLOSE_NOT_FOUND
            await frames.close(websocket, code, exc.detail)
            return
        await websocket.send_json({"type": "ready", "conversation_id": str(conversation_id)})
        for message in missed:
            await send(message_event(message))
        subscriber.start()
        while True:
            # Customers speak over HTTP; the socket carries only whether they are typing.
            try:
                typing = frames.validate(TYPING, await frames.receive(websocket))
            except frames.BadFrame as exc:
                # Through the queue: one task alone writes to the socket once it has started.
                subscriber.deliver({"type": "error", "detail": f"expected a typing frame: {exc.detail}"})
                continue
            await services.conversation_flows.customer_typing(conversation_id, typing.typing)
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.unfollow_conversation(conversation_id, subscriber)
        await subscriber.stop()
