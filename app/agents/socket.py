"""The agent's websocket: offers and messages out, commands in, each command acknowledged.

Protocol (version 1): the first frame is {"type": "hello", "token": "<agent token>"}; the server
answers with a "welcome" snapshot (conversations owned, offers open) and then live events. Every
command gets {"type": "ack", "id": ...} or {"type": "error", "id": ..., "detail": ...}; a
{"type": "ping"} gets {"type": "pong"}. Every frame counts as a heartbeat for the router.
"""

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from app.agents import service as agents
from app.agents.commands import COMMAND, Accept, Command, Decline, Resolve, Send, SetStatus, Transfer
from app.agents.models import Agent, AgentPublic, Role
from app.db import run_in_session
from app.deps import ServicesDep
from app.errors import DomainError, Unauthorized
from app.realtime.hub import Subscriber
from app.services import Services
from routing import Presence

router = APIRouter(tags=["agents"])
log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
HELLO_TIMEOUT_SECONDS = 10.0
HEARTBEAT_EVERY_SECONDS = 5.0
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket, services: ServicesDep) -> None:
    """An agent's live connection; being connected is what makes the agent online."""
    await websocket.accept()
    try:
        agent = await _authenticate(websocket, services)
    except WebSocketDisconnect:
        return
    if agent is None:
        return
    assert agent.id is not None
    agent_id = agent.id
    subscriber = Subscriber(send=websocket.send_json, close=websocket.close)
    services.hub.follow_agent(agent_id, subscriber, supervisor=agent.role == Role.supervisor)
    log.info("event=agent_connected agent=%s", agent_id)
    try:
        await services.assignment.set_presence(agent_id, Presence.online)
        welcome = await services.assignment.agent_snapshot(agent_id)
        await websocket.send_json(
            {**welcome, "agent": AgentPublic.of(agent).model_dump(), "protocol": PROTOCOL_VERSION}
        )
        subscriber.start()
        last_beat = time.monotonic()
        while True:
            frame = await websocket.receive_text()
            if time.monotonic() - last_beat > HEARTBEAT_EVERY_SECONDS:
                # Any frame shows the agent is there; the router hears of it every few seconds.
                last_beat = time.monotonic()
                await services.assignment.heartbeat(agent_id)
            # Answers share the event queue, so one task alone writes to the socket, in order.
            subscriber.deliver(await _answer(frame, agent, services))
    except WebSocketDisconnect:
        pass
    finally:
        await subscriber.stop()
        log.info("event=agent_disconnected agent=%s", agent_id)
        if services.hub.unfollow_agent(agent_id, subscriber) == 0:
            # Offline, not gone: the router keeps their conversations through the grace period.
            await services.assignment.set_presence(agent_id, Presence.offline)


async def _authenticate(websocket: WebSocket, services: Services) -> Agent | None:
    try:
        frame = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_SECONDS)
    except TimeoutError:
        await websocket.close(CLOSE_BAD_FRAME, "no hello frame within 10 seconds")
        return None
    try:
        hello = json.loads(frame)
    except json.JSONDecodeError:
        hello = None
    if not isinstance(hello, dict) or hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
        await websocket.close(CLOSE_BAD_FRAME, 'expected {"type": "hello", "token": "..."} first')
        return None
    token: str = hello["token"]
    try:
        return await run_in_session(services.open_session, lambda s: agents.authenticate(session=s, token=token))
    except Unauthorized as exc:
        await websocket.close(CLOSE_UNAUTHORIZED, exc.detail)
        return None


async def _answer(frame: str, agent: Agent, services: Services) -> dict[str, Any]:
    """Run one command and say how it went; a bad command never closes the connection."""
    try:
        raw = json.loads(frame)
    except json.JSONDecodeError as exc:
        return {"type": "error", "id": None, "detail": f"frame is not JSON: {exc.msg}"}
    if raw == {"type": "ping"}:
        return {"type": "pong"}
    command_id = raw.get("id") if isinstance(raw, dict) else None
    try:
        command = COMMAND.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return {"type": "error", "id": command_id, "detail": f"invalid command: {problems}"}
    try:
        result = await _run(command, agent, services)
    except DomainError as exc:
        return {"type": "error", "id": command.id, "detail": exc.detail}
    return {"type": "ack", "id": command.id, "result": result}


async def _run(command: Command, agent: Agent, services: Services) -> dict[str, Any]:
    assert agent.id is not None
    match command:
        case Accept(offer_id=offer_id):
            return await services.assignment.accept(agent, offer_id)
        case Decline(offer_id=offer_id):
            await services.assignment.decline(agent.id, offer_id)
            return {"offer_id": offer_id}
        case Send(conversation_id=conversation_id, text=text, client_message_id=client_id):
            message = await services.conversations.agent_reply(agent.id, conversation_id, text, client_id)
            return {"message_id": message.id, "seq": message.seq}
        case Resolve(conversation_id=conversation_id):
            await services.conversations.agent_resolve(agent.id, conversation_id)
            return {"conversation_id": str(conversation_id)}
        case Transfer(conversation_id=conversation_id, to_agent_id=to_agent, to_team=to_team, note=note):
            await services.assignment.transfer(agent.id, conversation_id, to_agent, to_team, note)
            return {"conversation_id": str(conversation_id)}
        case SetStatus(status=status):
            await services.assignment.set_presence(agent.id, Presence(status))
            return {"presence": status}
    raise AssertionError(f"unhandled command {command!r}")
