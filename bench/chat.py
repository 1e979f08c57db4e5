"""A new customer asks one question through the web chat, as the chat page does."""

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from app.cli.background import Stack


async def first_bot_reply(stack: Stack, http: httpx.AsyncClient, text: str) -> tuple[dict[str, Any], float]:
    """The bot's first reply in a new conversation, and the seconds from sending `text` until it
    arrived on the customer's websocket."""
    session = (await http.post(f"{stack.http_url}/api/chat/sessions")).json()
    async with connect(f"{stack.ws_url}/ws/chat/{session['conversation_id']}") as socket:
        await socket.send(json.dumps({"type": "hello", "token": session["token"]}))
        await socket.recv()
        started = time.perf_counter()
        response = await http.post(
            f"{stack.http_url}/api/chat/conversations/{session['conversation_id']}/messages",
            headers={"Authorization": f"Bearer {session['token']}"},
            json={"text": text, "client_message_id": "bench"},
        )
        response.raise_for_status()
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=60))
            if event.get("type") == "message" and event["message"]["author"] == "bot":
                message: dict[str, Any] = event["message"]
                return message, time.perf_counter() - started
