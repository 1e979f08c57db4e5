"""Reading what a client sends over a websocket, the same way on the agent's and the customer's socket.

A frame is read as text, bounded, parsed as JSON and validated with pydantic. Whatever is wrong with
it becomes one `BadFrame` naming the problem, so that a handler answers it with the protocol's error
frame or close code (docs/realtime.md) instead of losing the connection to an exception.
"""

import json
from typing import Any, TypeVar

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError

from app.core import limits

# Far above any command (a message is at most 2,000 characters), far below the server's 16 MiB.
MAX_FRAME_CHARS = 65_536
# A close frame's reason is at most 123 bytes of UTF-8.
MAX_REASON_BYTES = 123

T = TypeVar("T")


class BadFrame(Exception):
    """A frame that is not what the protocol expects; `detail` says why, for the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def receive(websocket: WebSocket) -> dict[str, Any]:
    """The next frame as a JSON object. Raises BadFrame for any other frame, WebSocketDisconnect
    when the client has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        raise BadFrame("a binary frame; the protocol's frames are JSON text")
    return parse(text)


def parse(text: str) -> dict[str, Any]:
    """A text frame as a JSON object, with nothing in it that app/core/limits.py refuses."""
    if len(text) > MAX_FRAME_CHARS:
        raise BadFrame(f"a frame of {len(text)} characters; the limit is {MAX_FRAME_CHARS}")
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadFrame("the frame nests too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, and integers of more than 4,300 digits
        raise BadFrame(f"the frame is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadFrame(f"the frame is a JSON {type(data).__name__}, not an object with a type")
    found = limits.unstorable(data)
    if found:
        location, problem = found
        raise BadFrame(f"{limits.dotted(location) or 'the frame'}: {problem}")
    return data


def validate(adapter: TypeAdapter[T], data: dict[str, Any]) -> T:
    """`data` as the adapter's type; BadFrame names each field that is wrong."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise BadFrame("; ".join(_problem(error["loc"], error["msg"]) for error in exc.errors())) from None


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close with a reason cut to what a close frame holds (a longer one fails to send)."""
    cut = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
    await websocket.close(code, cut)


def _problem(loc: limits.Location, msg: str) -> str:
    return f"{limits.dotted(loc)}: {msg}" if loc else msg
