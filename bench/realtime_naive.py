"""The baseline for `bench realtime`: the broadcast loop a first version often has. Customer messages
are stored exactly as the service stores them, then one task sends each to the owning agent's
sockets, awaiting every send in turn; nothing is numbered or kept for a reconnect.

    CAREBRIDGE_DATABASE_URL=... uvicorn bench.realtime_naive:app --port PORT
"""

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Header, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.conversations import messages
from app.conversations import service as conversations
from app.conversations.models import Message, MessagePublic
from app.conversations.wire import message_event
from app.core.db import make_engine, run_in_session, session_factory
from app.core.settings import get_settings
from app.people import service as people
from app.webchat import service as webchat
from app.webchat.schemas import MessageCreate


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = make_engine(get_settings().database_url)
    app.state.open_session = session_factory(engine)
    app.state.sockets = defaultdict(list)
    app.state.queue = asyncio.Queue()
    loop = asyncio.create_task(broadcast(app))
    yield
    loop.cancel()
    engine.dispose()


app = FastAPI(lifespan=lifespan)


async def broadcast(app: FastAPI) -> None:
    while True:
        agent_id, event = await app.state.queue.get()
        for socket in list(app.state.sockets[agent_id]):
            try:
                await socket.send_json(event)
            except Exception:
                app.state.sockets[agent_id].remove(socket)


@app.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    hello = json.loads(await websocket.receive_text())
    agent = await run_in_session(app.state.open_session, lambda s: people.authenticate(session=s, token=hello["token"]))
    assert agent.id is not None
    app.state.sockets[agent.id].append(websocket)
    await websocket.send_json({"type": "welcome"})
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        if websocket in app.state.sockets[agent.id]:
            app.state.sockets[agent.id].remove(websocket)


@app.post("/api/chat/conversations/{conversation_id}/messages", status_code=201)
async def send_message(conversation_id: uuid.UUID, body: MessageCreate, authorization: str = Header()) -> MessagePublic:
    token = authorization.removeprefix("Bearer ")

    def store(session: Session) -> tuple[Message, int | None]:
        webchat.authorize(session=session, token=token, conversation_id=conversation_id)
        message, _ = messages.add_customer_message(
            session=session, conversation_id=conversation_id, text=body.text, client_message_id=body.client_message_id
        )
        return message, conversations.get(session=session, conversation_id=conversation_id).agent_id

    message, agent_id = await run_in_session(app.state.open_session, store)
    if agent_id is not None:
        app.state.queue.put_nowait((agent_id, message_event(message)))
    return MessagePublic.of(message)
