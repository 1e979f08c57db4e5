"""The web chat's limits over the running service: too many sessions from one address, or messages
from one visitor or address, get 429 with Retry-After; a refused message is neither stored nor sent
to the bot, and other visitors go on as before."""

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from app.cli.background import LiveServer, serve
from app.core.timestamps import utcnow
from app.webchat import limits
from app.webchat.models import WebchatRequest
from knowledge import OnnxEmbedder
from tests.support.clients import is_message, new_customer
from tests.support.instances import instance, seed


class StandInRasa:
    """Rasa's REST channel as the service calls it: it notes every text and answers with an echo."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.url = ""
        self.app = FastAPI()

        @self.app.post("/webhooks/rest/webhook")
        async def webhook(body: dict[str, Any]) -> list[dict[str, str]]:
            self.heard.append(body["message"])
            return [{"recipient_id": body["sender"], "text": f"echo: {body['message']}"}]


@pytest.fixture
def rasa() -> Iterator[StandInRasa]:
    stand_in = StandInRasa()
    with serve(stand_in.app) as server:
        stand_in.url = server.http_url
        yield stand_in


@pytest.fixture
def extra_settings(rasa: StandInRasa) -> dict[str, Any]:
    return {"rasa_url": rasa.url}


def assert_limited(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.json()["limit"] == limit
    assert limit.replace("_", " ") in response.json()["detail"]


@pytest.mark.settings(webchat_sessions_per_address=3)
async def test_one_session_too_many_from_an_address_waits(http: httpx.AsyncClient) -> None:
    started = [await http.post("/api/chat/sessions") for _ in range(3)]

    refused = await http.post("/api/chat/sessions")

    assert [response.status_code for response in started] == [201, 201, 201]
    assert_limited(refused, "sessions_per_address")


@pytest.mark.settings(webchat_messages_per_visitor=3)
async def test_a_message_over_the_limit_is_neither_stored_nor_sent_to_the_bot(
    live: LiveServer, http: httpx.AsyncClient, rasa: StandInRasa
) -> None:
    flooder, other = await new_customer(http), await new_customer(http)
    chat, others_chat = await flooder.follow(live.ws_url), await other.follow(live.ws_url)
    accepted = [await flooder.say(f"question {n}") for n in range(3)]
    for n in range(3):
        await chat.next(is_message("bot", f"echo: question {n}"))

    refused = await flooder.say("question 3")
    others = await other.say("I am someone else")

    assert [response.status_code for response in accepted] == [201, 201, 201]
    assert_limited(refused, "messages_per_visitor")
    assert others.status_code == 201
    assert [m["text"] for m in await flooder.history() if m["author"] == "customer"] == [
        "question 0",
        "question 1",
        "question 2",
    ]
    # The other visitor's turn comes after the refusal; by its answer, the bot has heard all it will.
    await others_chat.next(is_message("bot", "echo: I am someone else"))
    assert "question 3" not in rasa.heard
    await chat.close()
    await others_chat.close()


@pytest.mark.settings(webchat_messages_per_visitor=100, webchat_messages_per_address=4)
async def test_visitors_behind_one_address_share_its_limit(http: httpx.AsyncClient) -> None:
    first, second, third = [await new_customer(http) for _ in range(3)]
    sent = [await first.say("a"), await first.say("b"), await second.say("c"), await second.say("d")]

    refused = await third.say("e")

    assert [response.status_code for response in sent] == [201] * 4
    assert_limited(refused, "messages_per_address")


@pytest.mark.settings(webchat_sessions_per_address=1)
async def test_a_trusted_proxys_forwarded_address_is_counted(http: httpx.AsyncClient) -> None:
    # The live server trusts loopback by default, where this client and a local proxy would be.
    first = await http.post("/api/chat/sessions", headers={"X-Forwarded-For": "203.0.113.1"})
    again = await http.post("/api/chat/sessions", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.1"})
    elsewhere = await http.post("/api/chat/sessions", headers={"X-Forwarded-For": "203.0.113.2"})

    assert first.status_code == 201
    assert_limited(again, "sessions_per_address")
    assert elsewhere.status_code == 201


@pytest.mark.settings(webchat_sessions_per_address=1, trusted_proxies="")
async def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(http: httpx.AsyncClient) -> None:
    first = await http.post("/api/chat/sessions", headers={"X-Forwarded-For": "203.0.113.1"})
    posing = await http.post("/api/chat/sessions", headers={"X-Forwarded-For": "203.0.113.2"})

    assert first.status_code == 201
    assert_limited(posing, "sessions_per_address")


@pytest.fixture
def server(database_url: str, tmp_path: Path, embedder: OnnxEmbedder) -> Iterator[LiveServer]:
    seed(database_url)
    with instance(database_url, tmp_path, embedder, webchat_sessions_per_address=5) as live:
        yield live


async def test_simultaneous_session_starts_get_exactly_the_limit(server: LiveServer) -> None:
    connections = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60, limits=connections) as client:
        responses = await asyncio.gather(*(client.post("/api/chat/sessions") for _ in range(20)))

    assert Counter(response.status_code for response in responses) == {201: 5, 429: 15}


def test_requests_out_of_the_window_are_forgotten(session: Session) -> None:
    now, window = utcnow(), timedelta(seconds=60)
    session.add_all(
        WebchatRequest(key="session:address:192.0.2.1", at=at)
        for at in (now - timedelta(seconds=61), now - timedelta(seconds=59))
    )
    session.commit()

    forgotten = limits.forget_old(session=session, window=window, now=now)
    session.commit()

    assert forgotten == 1
    assert session.exec(select(col(WebchatRequest.at))).all() == [now - timedelta(seconds=59)]
