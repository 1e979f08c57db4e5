"""Rasa's API token goes only where Rasa asks for it, and never into a log line or an error that an
agent could read. A small HTTP server stands in for a Rasa that fails."""

import logging

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.assistant.rasa_client import BotUnavailable, RasaClient
from app.cli.background import serve
from app.core.logs import configure_logging

TOKEN = "s3cret+token/=="


async def test_the_token_goes_to_rasas_api_only_and_never_into_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    asked: list[tuple[str, str | None]] = []
    failing = FastAPI()

    @failing.api_route("/{path:path}", methods=["GET", "POST"])
    async def fail(path: str, request: Request) -> JSONResponse:
        asked.append((path, request.query_params.get("token")))
        if path == "status":
            return JSONResponse({"model_file": "m.tar.gz"})
        return JSONResponse({"error": "broken"}, status_code=500)

    configure_logging()
    caplog.set_level(logging.DEBUG)
    with serve(failing) as rasa:
        async with httpx.AsyncClient() as http:
            client = RasaClient(http, f"http://127.0.0.1:{rasa.port}", 5.0, token=TOKEN)
            with pytest.raises(BotUnavailable) as sent:
                await client.send("c-1", "hello", {})
            with pytest.raises(BotUnavailable) as triggered:
                await client.trigger("c-1", "EXTERNAL_agent_resolved")
            ready = await client.is_ready()

    assert asked == [
        ("webhooks/rest/webhook", None),
        ("conversations/c-1/trigger_intent", TOKEN),
        ("status", TOKEN),
    ]
    assert ready
    assert "HTTP 500" in str(sent.value) and "HTTP 500" in str(triggered.value)
    assert TOKEN not in str(triggered.value) and "s3cret" not in str(triggered.value)
    assert not [r for r in caplog.records if "s3cret" in r.getMessage()]
