"""Talking to the Rasa server over its REST channel."""

import logging
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass(frozen=True)
class BotOutput:
    """One entry of Rasa's answer: plain text, or a custom payload from an action."""

    text: str | None = None
    custom: dict[str, Any] | None = None


class RasaClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotOutput]:
        """Hand Rasa one customer message; returns what the bot said back, in order."""
        try:
            response = await self._http.post(
                f"{self._base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
                timeout=self._timeout,
            )
            response.raise_for_status()
            entries = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BotUnavailable(f"Rasa at {self._base_url} failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(entries, list):
            raise BotUnavailable(f"Rasa answered {type(entries).__name__}, expected a list")
        return [_parse(entry) for entry in entries if isinstance(entry, dict)]

    async def is_ready(self) -> bool:
        try:
            response = await self._http.get(f"{self._base_url}/status", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))


def _parse(entry: dict[str, Any]) -> BotOutput:
    custom = entry.get("custom")
    return BotOutput(
        text=entry.get("text") if isinstance(entry.get("text"), str) else None,
        custom=custom if isinstance(custom, dict) else None,
    )
