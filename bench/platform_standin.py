"""A local stand-in for Meta's Graph API and X's API v2, speaking their documented request and answer
shapes. It records every call and can be told to fail, be slow, or answer 429, call by call.

Like the real APIs it has no memory of idempotency keys for correctness; it records them so a test
can prove the service never posts the same reply twice.
"""

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

GRAPH_PREFIX = "/meta/v21.0"
X_PREFIX = "/x"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def text(self) -> str:
        message = self.body.get("message")
        if isinstance(message, dict):
            return str(message.get("text", ""))
        return str(message if message is not None else self.body.get("text", ""))


@dataclass(frozen=True)
class Planned:
    """What the next call gets instead of success: a status (and headers), after a delay."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakePlatforms:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._plan: deque[Planned] = deque()
        self._ids = itertools.count(1)
        # Instagram comments the Graph API can describe, by id (for mentions).
        self.comments: dict[str, dict[str, Any]] = {}
        # Who wrote a Facebook comment, as their Messenger id (PSID): what the Send API answers to a
        # private reply. Unknown comments get a made-up one.
        self.commenters: dict[str, str] = {}
        self.app = self._build()

    def then(self, *planned: Planned) -> None:
        """The next calls get these answers, in order; after them, success again."""
        self._plan.extend(planned)

    def posts(self, path_contains: str = "") -> list[Call]:
        """Calls that posted something (and succeeded), oldest first."""
        return [c for c in self.calls if c.method == "POST" and path_contains in c.path and c.headers.get("ok") == "1"]

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything(path: str, request: Request) -> JSONResponse:
            body = await request.json() if request.method == "POST" else dict(request.query_params)
            planned = self._plan.popleft() if self._plan else None
            headers = {k.lower(): v for k, v in request.headers.items()}
            if planned and planned.delay:
                await asyncio.sleep(planned.delay)
            if planned and planned.status >= 300:
                self.calls.append(Call(request.method, "/" + path, body, headers))
                return JSONResponse(planned.body, status_code=planned.status, headers=planned.headers)
            self.calls.append(Call(request.method, "/" + path, body, {**headers, "ok": "1"}))
            return JSONResponse(self._answer(request.method, "/" + path, body))

        return app

    def _answer(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        if path.startswith(GRAPH_PREFIX):
            rest = path[len(GRAPH_PREFIX) :]
            if method == "GET":
                return self.comments.get(rest.strip("/"), {"error": {"message": "no such comment"}})
            if rest == "/me/messages":
                recipient = body.get("recipient") or {}
                comment = recipient.get("comment_id")
                psid = self.commenters.get(comment, f"psid-of-{comment}") if comment else recipient.get("id")
                return {"recipient_id": psid, "message_id": f"m_{n}"}
            return {"id": f"comment_{n}"}
        if path.endswith("/messages"):
            return {"data": {"dm_conversation_id": f"conv-{n}", "dm_event_id": f"dm-{n}"}}
        return {"data": {"id": f"tweet-{n}", "text": "..."}}
