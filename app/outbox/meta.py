"""Meta's Graph API, for what the outbox sends: the Send API (DMs and private replies to comments),
public replies to Facebook and Instagram comments, and reading a mentioned Instagram comment."""

from typing import Any

import httpx

from app.outbox.models import OutboxItem
from app.outbox.platform_http import call
from app.outbox.queue import Delivered, SendFailed


class MetaClient:
    def __init__(self, http: httpx.AsyncClient, graph_url: str, page_token: str, timeout: float = 10.0) -> None:
        self._http = http
        self._url = graph_url.rstrip("/")
        self._token = page_token
        self._timeout = timeout

    def _headers(self, key: str | None = None) -> dict[str, str]:
        if not self._token:
            raise SendFailed("CAREBRIDGE_META_PAGE_TOKEN is not set", retry=False)
        headers = {"Authorization": f"Bearer {self._token}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    async def send(self, item: OutboxItem) -> Delivered:
        """Deliver one outbox item; returns Meta's id for what it posted."""
        target = item.target
        if item.kind == "dm":
            body: dict[str, Any] = {
                "recipient": {"id": target["recipient_id"]},
                "messaging_type": target.get("messaging_type", "RESPONSE"),
                "message": {"text": item.text},
            }
            if target.get("tag"):
                body["tag"] = target["tag"]
            return Delivered(_id(await self._post("/me/messages", body, item.idempotency_key), "message_id"))
        if item.kind == "private_reply":
            body = {"recipient": {"comment_id": target["comment_id"]}, "message": {"text": item.text}}
            answer = await self._post("/me/messages", body, item.idempotency_key)
            # The Send API names the recipient: the commenter's page-scoped id (PSID) in Messenger.
            recipient = answer.get("recipient_id")
            return Delivered(_id(answer, "message_id"), str(recipient) if recipient else None)
        if item.kind == "comment_reply":
            path = f"/{target['comment_id']}/comments"
            return Delivered(_id(await self._post(path, {"message": item.text}, item.idempotency_key), "id"))
        if item.kind == "instagram_comment_reply":
            path = f"/{target['comment_id']}/replies"
            return Delivered(_id(await self._post(path, {"message": item.text}, item.idempotency_key), "id"))
        raise SendFailed(f"Meta has no way to send a {item.kind!r}", retry=False)

    async def comment(self, comment_id: str) -> dict[str, Any]:
        """An Instagram comment that mentioned the brand: its text and author."""
        return await call(
            self._http,
            "GET",
            f"{self._url}/{comment_id}",
            headers=self._headers(),
            params={"fields": "id,text,from,timestamp"},
            seconds=self._timeout,
        )

    async def _post(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return await call(
            self._http, "POST", self._url + path, headers=self._headers(key), json=body, seconds=self._timeout
        )


def _id(answer: dict[str, Any], field: str) -> str:
    value = answer.get(field) or answer.get("id")
    if not value:
        raise SendFailed(f"Meta answered without a {field}", retry=False)
    return str(value)
