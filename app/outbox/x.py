"""X's API v2, for what the outbox sends: DMs and replies to tweets."""

from typing import Any

import httpx

from app.outbox.models import OutboxItem
from app.outbox.platform_http import call
from app.outbox.queue import Delivered, SendFailed


class XClient:
    def __init__(self, http: httpx.AsyncClient, api_url: str, bearer_token: str, timeout: float = 10.0) -> None:
        self._http = http
        self._url = api_url.rstrip("/")
        self._token = bearer_token
        self._timeout = timeout

    async def send(self, item: OutboxItem) -> Delivered:
        """Deliver one outbox item; returns X's id for the DM event or tweet."""
        if not self._token:
            raise SendFailed("CAREBRIDGE_X_BEARER_TOKEN is not set", retry=False)
        headers = {"Authorization": f"Bearer {self._token}", "Idempotency-Key": item.idempotency_key}
        if item.kind == "dm":
            path = f"/2/dm_conversations/with/{item.target['recipient_id']}/messages"
            answer = await self._post(path, {"text": item.text}, headers)
            return Delivered(_id(answer, "dm_event_id"))
        if item.kind == "tweet_reply":
            body = {"text": item.text, "reply": {"in_reply_to_tweet_id": item.target["tweet_id"]}}
            return Delivered(_id(await self._post("/2/tweets", body, headers), "id"))
        raise SendFailed(f"X has no way to send a {item.kind!r}", retry=False)

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        return await call(self._http, "POST", self._url + path, headers=headers, json=body, seconds=self._timeout)


def _id(answer: dict[str, Any], field: str) -> str:
    data = answer.get("data")
    if not isinstance(data, dict) or not data.get(field):
        raise SendFailed(f"X answered without data.{field}", retry=False)
    return str(data[field])
