"""The agent's websocket: offers and messages out, commands in, each command acknowledged.

The protocol (version 2) is described in docs/realtime.md. In short: the first frame is
{"type": "hello", "token": ..., "after_seq": N}; the server answers with a "welcome" snapshot and then
sends the agent's feed from N + 1 on, every event numbered, in order, once. Every command gets an
"ack" or an "error" with its id. Both sides send a frame at least every few seconds; a connection
silent for longer is closed, and its agent's presence follows.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from app.accounts import service as accounts
from app.api import frames
from app.api.agent_commands import (
    COMMAND,
    COMMAND_ID_MAX,
    HELLO,
    Accept,
    Command,
    Decline,
    HandBack,
    Note,
    Resolve,
    Send,
    SetStatus,
    Transfer,
    Typing,
)
from app.api.deps import SESSION_COOKIE, ServicesDep
from app.core.db import run_in_session
from app.core.errors import DomainError, Unauthorized
from app.core.timestamps import utcnow
from app.people import service as people
from app.people.models import Person, PersonPublic, Role
from app.realtime import feed
from app.realtime.hub import Subscriber
from app.realtime.models import Event
from app.services import Services
from routing import Presence

router = APIRouter(tags=["agents"])
log = logging.getLogger(__name__)

PROTOCOL_VERSION = 2
HELLO_TIMEOUT_SECONDS = 10.0
# The server's heartbeat to the console.
HEARTBEAT_EVERY_SECONDS = 5.0
CLOSE_BAD_FRAME = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_SILENT = 4408
CLOSE_START_AFRESH = 4409


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket, services: ServicesDep) -> None:
    """An agent's live connection; being connected is what makes the agent online."""
    await websocket.accept()
    try:
        hello = await _authenticate(websocket, services)
    except WebSocketDisconnect:
        return
    if hello is None:
        return
    agent, credential, after_seq = hello
    assert agent.id is not None
    agent_id = agent.id
    cursor = _Cursor(websocket, services, agent_id)

    async def send(event: Event) -> None:
        if event.get("type") == accounts.CREDENTIALS_CHANGED["type"]:
            await _close_if_signed_out(websocket, services, agent, credential)
        else:
            await cursor.send(event)

    subscriber = Subscriber(send=send, close=websocket.close, gone=(WebSocketDisconnect,))
    # Following first: whatever is published from here on waits in the queue until the replay is sent.
    services.hub.follow_agent(agent_id, subscriber)
    log.info("event=agent_connected agent=%s after_seq=%s", agent_id, after_seq)
    beating: asyncio.Task[None] | None = None
    try:
        await services.assignment_flows.set_presence(agent_id, Presence.online)
        missed, cursor.high_water = await _replay(services, agent_id, after_seq)
        welcome = await services.assignment_flows.agent_snapshot(agent_id)
        await websocket.send_json(
            {
                **welcome,
                "agent": PersonPublic.of(agent).model_dump(),
                "protocol": PROTOCOL_VERSION,
                "resumed": missed is not None,
                "seq": cursor.high_water,
            }
        )
        for event in missed or ():
            await cursor.send(event)
        subscriber.start()
        beating = asyncio.create_task(_beat(subscriber, services.settings.agent_credentials_check_seconds))
        await _listen(websocket, agent, services, subscriber)
    except WebSocketDisconnect:
        pass
    finally:
        if beating is not None:
            beating.cancel()
        await subscriber.stop()
        log.info("event=agent_disconnected agent=%s", agent_id)
        if services.hub.unfollow_agent(agent_id, subscriber) == 0:
            # Offline, not gone: the router keeps their conversations through the grace period.
            await services.assignment_flows.set_presence(agent_id, Presence.offline)


async def _replay(services: Services, agent_id: int, after_seq: int | None) -> tuple[list[Event] | None, int]:
    """The events to send again (None when the client starts afresh) and the number the client has
    then seen."""

    def read(session: Any) -> tuple[list[Event] | None, int]:
        newest = feed.last_seq(session, agent_id)
        if after_seq is None:
            return None, newest
        missed = feed.after(session, agent_id, after_seq)
        return missed, (after_seq if missed is not None else newest)

    return await run_in_session(services.open_session, read)


class _Cursor:
    """Sends one connection its agent's feed in order, once: an event already sent is skipped, and one
    that arrives ahead of its turn (from another instance, by a quicker path) is preceded by those
    it skipped, read from the feed."""

    def __init__(self, websocket: WebSocket, services: Services, agent_id: int) -> None:
        self._websocket = websocket
        self._services = services
        self._agent_id = agent_id
        self.high_water = 0

    async def send(self, event: Event) -> None:
        seq = event.get("seq")
        if seq is None:  # acknowledgements, errors, heartbeats: not part of the feed
            await self._websocket.send_json(event)
            return
        if seq <= self.high_water:
            return
        if seq > self.high_water + 1:
            after, before = self.high_water, seq
            gap = await run_in_session(
                self._services.open_session, lambda s: feed.after(s, self._agent_id, after, before)
            )
            if gap is None:
                await self._websocket.close(CLOSE_START_AFRESH, "events were lost; reconnect without after_seq")
                return
            for missed in gap:
                await self._websocket.send_json(missed)
        await self._websocket.send_json(event)
        self.high_water = seq


async def _beat(subscriber: Subscriber, check_every: float) -> None:
    """A heartbeat when nothing else was sent for a while: a pinging console already hears a pong
    every few seconds, and a thousand consoles' needless frames cost the server real time. Every
    `check_every` seconds the connection checks what it signed in with: a password set on the
    command line, or an instance that missed the news, tells no open connection."""
    checked = time.monotonic()
    while True:
        now = time.monotonic()
        quiet = now - subscriber.last_sent
        if quiet >= HEARTBEAT_EVERY_SECONDS:
            subscriber.deliver({"type": "heartbeat"})
            quiet = 0.0
        if now - checked >= check_every:
            subscriber.deliver(accounts.CREDENTIALS_CHANGED)
            checked = now
        await asyncio.sleep(min(HEARTBEAT_EVERY_SECONDS - quiet, check_every - (now - checked)))


@dataclass(frozen=True)
class _Credential:
    """What a connection signed in with: a token from its hello, or the console's session cookie."""

    token: str | None = None
    cookie: str | None = None


async def _close_if_signed_out(
    websocket: WebSocket, services: Services, agent: Person, credential: _Credential
) -> None:
    """End the connection of someone whose session or token has ended, or whose role has changed
    (what the feed sends depends on it: a reconnect starts from the new role)."""
    try:
        now = await run_in_session(services.open_session, lambda s: _sign_in(s, credential))
    except Unauthorized as exc:
        log.info("event=agent_signed_out agent=%s", agent.id)
        await frames.close(websocket, CLOSE_UNAUTHORIZED, f"signed out: {exc.detail}")
        return
    if now.role != agent.role:
        log.info("event=agent_role_changed agent=%s role=%s", agent.id, now.role)
        await frames.close(websocket, CLOSE_START_AFRESH, f"{agent.name} is now {now.role}; connect again")


async def _listen(websocket: WebSocket, agent: Person, services: Services, subscriber: Subscriber) -> None:
    assert agent.id is not None
    silence = services.settings.agent_silence_seconds
    frame: dict[str, Any] | frames.BadFrame
    while True:
        try:
            # A timeout scope rather than wait_for, which starts a task for every frame.
            async with asyncio.timeout(silence):
                frame = await frames.receive(websocket)
        except TimeoutError:
            log.info("event=agent_silent agent=%s seconds=%s", agent.id, silence)
            with contextlib.suppress(Exception):
                await websocket.close(CLOSE_SILENT, f"nothing heard for {silence:g} s; send a ping every few seconds")
            return
        except frames.BadFrame as exc:
            frame = exc
        # Any frame shows the agent is there.
        services.assignment_flows.heard_from(agent.id)
        # Answers share the event queue, so one task alone writes to the socket, in order.
        subscriber.deliver(await _answer(frame, agent, services))


async def _authenticate(websocket: WebSocket, services: Services) -> tuple[Person, _Credential, int | None] | None:
    try:
        frame = await asyncio.wait_for(frames.receive(websocket), HELLO_TIMEOUT_SECONDS)
        hello = frames.validate(HELLO, frame)
    except TimeoutError:
        await websocket.close(CLOSE_BAD_FRAME, "no hello frame within 10 seconds")
        return None
    except frames.BadFrame as exc:
        await frames.close(websocket, CLOSE_BAD_FRAME, f'expected {{"type": "hello", "token": ...}}: {exc.detail}')
        return None
    try:
        credential = _credential(websocket, hello.token)
        agent = await run_in_session(services.open_session, lambda s: _sign_in(s, credential))
    except Unauthorized as exc:
        await frames.close(websocket, CLOSE_UNAUTHORIZED, exc.detail)
        return None
    if agent.role == Role.knowledge_manager:
        reason = f"{agent.name} is a knowledge manager and takes no conversations"
        await frames.close(websocket, CLOSE_FORBIDDEN, reason)
        return None
    return agent, credential, hello.after_seq


def _credential(websocket: WebSocket, token: str | None) -> _Credential:
    """The token in the hello (API clients), else the console's session cookie. A browser sends the
    cookie with any site's websocket, so the cookie counts only from a page of this service."""
    if token:
        return _Credential(token=token)
    cookie = websocket.cookies.get(SESSION_COOKIE)
    origin = websocket.headers.get("origin")
    if not cookie:
        raise Unauthorized("send a token in the hello, or sign in at /login")
    if origin is None or urlsplit(origin).netloc != websocket.headers.get("host"):
        raise Unauthorized(f"the session cookie is accepted only from this service's pages, not from {origin}")
    return _Credential(cookie=cookie)


def _sign_in(session: Session, credential: _Credential) -> Person:
    if credential.token is not None:
        return people.authenticate(session=session, token=credential.token)
    assert credential.cookie is not None
    agent, _ = accounts.by_cookie(session=session, cookie=credential.cookie, now=utcnow())
    return agent


async def _answer(frame: dict[str, Any] | frames.BadFrame, agent: Person, services: Services) -> dict[str, Any]:
    """Run one command and say how it went; a bad command never closes the connection."""
    if isinstance(frame, frames.BadFrame):
        return {"type": "error", "id": None, "detail": frame.detail}
    if frame.get("type") == "ping":
        return {"type": "pong"}
    # Echoed only when it is one: an error answers whatever the client sent, however odd.
    command_id = frame.get("id")
    if not isinstance(command_id, str) or len(command_id) > COMMAND_ID_MAX:
        command_id = None
    try:
        command = frames.validate(COMMAND, frame)
    except frames.BadFrame as exc:
        return {"type": "error", "id": command_id, "detail": f"invalid command: {exc.detail}"}
    try:
        result = await _run(command, agent, services)
    except DomainError as exc:
        return {"type": "error", "id": command.id, "detail": exc.detail}
    return {"type": "ack", "id": command.id, "result": result}


async def _run(command: Command, agent: Person, services: Services) -> dict[str, Any]:
    assert agent.id is not None
    match command:
        case Accept(offer_id=offer_id):
            return await services.assignment_flows.accept(agent, offer_id)
        case Decline(offer_id=offer_id):
            await services.assignment_flows.decline(agent.id, offer_id)
            return {"offer_id": offer_id}
        case Send(conversation_id=conversation_id, text=text, client_message_id=client_id):
            message = await services.conversation_flows.agent_reply(agent.id, conversation_id, text, client_id)
            return {"message_id": message.id, "seq": message.seq}
        case Note(conversation_id=conversation_id, text=text, client_message_id=client_id):
            message = await services.conversation_flows.agent_reply(
                agent.id, conversation_id, text, client_id, note=True
            )
            return {"message_id": message.id, "seq": message.seq}
        case Typing(conversation_id=conversation_id, typing=typing):
            await services.conversation_flows.agent_typing(agent.id, conversation_id, typing)
            return {"conversation_id": str(conversation_id)}
        case HandBack(conversation_id=conversation_id):
            await services.conversation_flows.agent_hand_back(agent.id, conversation_id)
            return {"conversation_id": str(conversation_id)}
        case Resolve(conversation_id=conversation_id):
            await services.conversation_flows.agent_resolve(agent.id, conversation_id)
            return {"conversation_id": str(conversation_id)}
        case Transfer(conversation_id=conversation_id, to_agent_id=to_agent, to_team=to_team, note=note):
            await services.assignment_flows.transfer(agent.id, conversation_id, to_agent, to_team, note)
            return {"conversation_id": str(conversation_id)}
        case SetStatus(status=status):
            await services.assignment_flows.set_presence(agent.id, Presence(status))
            return {"presence": status}
    raise AssertionError(f"unhandled command {command!r}")
