"""Talking to the Rasa server over its REST channel, behind a circuit breaker."""

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from app.assistant.breaker import CircuitBreaker

log = logging.getLogger(__name__)


class BotUnavailable(Exception):
    """Rasa did not answer in time, answered with an error, or is known to be down."""


@dataclass(frozen=True)
class BotOutput:
    """One entry of Rasa's answer: plain text, or a custom payload from an action."""

    text: str | None = None
    custom: dict[str, Any] | None = None
    # Quick replies offered with the text (their titles; the customer's tap sends the title).
    buttons: tuple[str, ...] = ()


class RasaClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        timeout: float,
        *,
        action_url: str | None = None,
        breaker: CircuitBreaker | None = None,
        token: str = "",
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._action_url = action_url.rstrip("/") if action_url else None
        self._timeout = timeout
        # Rasa's HTTP API (its --auth-token) reads it from the query string, so it goes only where it
        # is asked for (not to the REST channel) and never into an error message.
        self._api_params = {"token": token} if token else {}
        self.breaker = breaker or CircuitBreaker()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotOutput]:
        """Hand Rasa one customer message; returns what the bot said back, in order."""
        body = {"sender": sender, "message": as_words(text), "metadata": metadata}
        return await self._call("/webhooks/rest/webhook", body, _spoken, {})

    async def trigger(self, sender: str, intent: str) -> list[BotOutput]:
        """Tell the bot something happened outside the chat (an `EXTERNAL_` intent); returns what it said.

        The tracker goes on from where it was, so the bot resumes the conversation rather than start over.
        """
        return await self._call(
            f"/conversations/{sender}/trigger_intent", {"name": intent}, _triggered, self._api_params
        )

    async def _call(
        self, path: str, body: dict[str, Any], read: Callable[[Any], list[BotOutput]], params: dict[str, str]
    ) -> list[BotOutput]:
        """One request to Rasa behind the breaker: not sent while it is open, counted when it fails."""
        if self.breaker.is_open:
            raise BotUnavailable("the assistant is down (circuit open); not asked")
        try:
            response = await self._http.post(f"{self._base_url}{path}", json=body, params=params, timeout=self._timeout)
            response.raise_for_status()
            outputs = read(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            if self.breaker.failed():
                log.warning("event=assistant_circuit_opened failures=%d", self.breaker.failures)
            failed = f"Rasa at {self._base_url} failed: {type(exc).__name__}"
            if isinstance(exc, httpx.HTTPStatusError):  # its text holds the URL, token and all: not passed on
                raise BotUnavailable(f"{failed}: HTTP {exc.response.status_code}") from None
            raise BotUnavailable(f"{failed}: {exc}") from exc
        self.breaker.succeeded()
        return outputs

    async def is_ready(self) -> bool:
        """Rasa has a model loaded and, when known, the action server answers its health check."""
        try:
            response = await self._http.get(f"{self._base_url}/status", params=self._api_params, timeout=2.0)
            status = response.json() if response.status_code == 200 else None
            if not isinstance(status, dict) or not status.get("model_file"):
                return False
            if self._action_url is not None:
                actions = await self._http.get(f"{self._action_url}/health", timeout=2.0)
                return actions.status_code == 200
        except (httpx.HTTPError, ValueError):
            return False
        return True

    async def probe_forever(self, interval: float) -> None:
        """While the breaker is open, check Rasa's health every `interval` seconds and close it when well."""
        while True:
            await asyncio.sleep(interval)
            try:
                if self.breaker.is_open and await self.is_ready():
                    log.info("event=assistant_circuit_closed open_seconds=%.1f", self.breaker.open_for() or 0.0)
                    self.breaker.close()
            except Exception:
                # A probe that breaks must not end the probing, or the breaker would stay open for good.
                log.exception("event=assistant_probe_failed")


def as_words(text: str) -> str:
    """The customer's text as words for the NLU: Rasa reads a leading "/" as an intent to force
    (`/restart`, `/EXTERNAL_agent_resolved`), which is for the service, never for customers."""
    return re.sub(r"^\s*/+\s*", "", text) or "?"


def _replies(body: Any) -> list[BotOutput]:
    """The REST channel's answer: a list of outputs."""
    if not isinstance(body, list):
        raise ValueError(f"Rasa answered {type(body).__name__}, expected a list")
    return [_parse(entry) for entry in body if isinstance(entry, dict)]


def _spoken(body: Any) -> list[BotOutput]:
    """The answer to a customer message, which is never silence: every intent of ours ends in a
    response or an action that speaks, so nothing means an action failed (the action server is down
    or broke), and the customer must not be left without an answer."""
    outputs = _replies(body)
    if not outputs:
        raise ValueError("Rasa answered nothing: an action failed")
    return outputs


def _triggered(body: Any) -> list[BotOutput]:
    """The tracker API's answer: the outputs are under "messages"."""
    messages = body.get("messages") if isinstance(body, dict) else None
    return _replies(messages or [])


def _parse(entry: dict[str, Any]) -> BotOutput:
    custom = entry.get("custom")
    buttons = entry.get("buttons")
    if not isinstance(buttons, list):
        buttons = []
    return BotOutput(
        text=entry.get("text") if isinstance(entry.get("text"), str) else None,
        custom=custom if isinstance(custom, dict) else None,
        buttons=tuple(str(b["title"]) for b in buttons if isinstance(b, dict) and b.get("title")),
    )
