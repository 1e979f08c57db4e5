"""Test clients that talk to the service the way the two pages do: HTTP plus real websockets."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

Event = dict[str, Any]


@dataclass
class Socket:
    """A websocket whose events can be awaited by kind, keeping the others for later."""

    connection: ClientConnection
    seen: list[Event] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def next(self, matches: Callable[[Event], bool], seconds: float = 20.0) -> Event:
        for event in self.seen:
            if matches(event):
                self.seen.remove(event)
                return event
        async with asyncio.timeout(seconds):
            while True:
                received: Event = json.loads(await self.connection.recv())
                if matches(received):
                    return received
                self.seen.append(received)

    async def next_of(self, kind: str, seconds: float = 20.0) -> Event:
        return await self.next(lambda e: e.get("type") == kind, seconds)

    async def offer_for(self, conversation_id: str, seconds: float = 20.0) -> Event:
        """The offer of one conversation, whatever else is waiting in a shared test stack."""
        return await self.next(
            lambda e: e.get("type") == "offer" and e["offer"]["conversation_id"] == conversation_id, seconds
        )

    async def command(self, kind: str, **fields: Any) -> Event:
        """Send a command and wait for its ack or error."""
        command_id = f"t{next(self._ids)}"
        await self.connection.send(json.dumps({"id": command_id, "type": kind, **fields}, default=str))
        return await self.next(lambda e: e.get("type") in ("ack", "error") and e.get("id") == command_id)

    async def close(self) -> None:
        await self.connection.close()


async def agent_socket(ws_url: str, token: str, after_seq: int | None = None) -> tuple[Socket, Event]:
    """Connect as an agent, resuming after `after_seq` if given; returns the socket and its welcome."""
    socket = Socket(await connect(f"{ws_url}/ws/agent"))
    hello: Event = {"type": "hello", "token": token}
    if after_seq is not None:
        hello["after_seq"] = after_seq
    await socket.connection.send(json.dumps(hello))
    welcome = await socket.next_of("welcome")
    return socket, welcome


@dataclass
class Customer:
    http: httpx.AsyncClient
    conversation_id: str
    token: str
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def say(self, text: str, client_message_id: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"/api/chat/conversations/{self.conversation_id}/messages",
            headers=self.headers,
            json={"text": text, "client_message_id": client_message_id or f"c{next(self._ids)}"},
        )

    async def history(self) -> list[Event]:
        response = await self.http.get(f"/api/chat/conversations/{self.conversation_id}/messages", headers=self.headers)
        response.raise_for_status()
        messages: list[Event] = response.json()["messages"]
        return messages

    async def follow(self, ws_url: str, after_seq: int = 0) -> Socket:
        socket = Socket(await connect(f"{ws_url}/ws/chat/{self.conversation_id}"))
        await socket.connection.send(json.dumps({"type": "hello", "token": self.token, "after_seq": after_seq}))
        await socket.next_of("ready")
        return socket


async def new_customer(http: httpx.AsyncClient) -> Customer:
    response = await http.post("/api/chat/sessions")
    response.raise_for_status()
    body = response.json()
    return Customer(http, body["conversation_id"], body["token"])


def is_message(author: str, text_contains: str = "") -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        message = event.get("message") or {}
        return bool(
            event.get("type") == "message"
            and message.get("author") == author
            and text_contains in message.get("text", "")
        )

    return matches
