"""The web chat API over real HTTP and websockets: bad input is refused clearly and loses nothing."""

import json
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.cli.background import LiveServer
from tests.support.clients import Customer, is_message, new_customer


@pytest.fixture
async def customer(http: httpx.AsyncClient) -> Customer:
    return await new_customer(http)


async def test_a_message_is_stored_before_it_is_acknowledged(customer: Customer) -> None:
    response = await customer.say("Do you ship to Norway?", client_message_id="first")

    assert response.status_code == 201
    body = response.json()
    assert (body["seq"], body["author"], body["text"]) == (1, "customer", "Do you ship to Norway?")
    history = await customer.history()
    assert history[0]["id"] == body["id"]


async def test_a_repeated_client_message_id_returns_the_first_message(customer: Customer) -> None:
    first = await customer.say("hello", client_message_id="same-id")
    again = await customer.say("hello again", client_message_id="same-id")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    customer_messages = [m for m in await customer.history() if m["author"] == "customer"]
    assert len(customer_messages) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "at least 1 character"), ("   ", "at least 1 character"), ("x" * 2001, "at most 2000 characters")],
)
async def test_empty_or_oversized_messages_are_refused_and_nothing_is_lost(
    customer: Customer, text: str, problem: str
) -> None:
    await customer.say("kept", client_message_id="kept")

    response = await customer.say(text)

    assert response.status_code == 422
    assert problem in response.text
    assert [m["text"] for m in await customer.history() if m["author"] == "customer"] == ["kept"]


async def test_unknown_conversation_is_404_with_its_id(http: httpx.AsyncClient, customer: Customer) -> None:
    missing = uuid.uuid4()

    response = await http.post(
        f"/api/chat/conversations/{missing}/messages",
        headers=customer.headers,
        json={"text": "hi", "client_message_id": "x"},
    )

    assert response.status_code == 404
    assert str(missing) in response.json()["detail"]


async def test_malformed_conversation_id_is_422(http: httpx.AsyncClient, customer: Customer) -> None:
    response = await http.get("/api/chat/conversations/not-a-uuid/messages", headers=customer.headers)

    assert response.status_code == 422


async def test_missing_or_wrong_token_is_401(http: httpx.AsyncClient, customer: Customer) -> None:
    url = f"/api/chat/conversations/{customer.conversation_id}/messages"

    missing = await http.post(url, json={"text": "hi", "client_message_id": "x"})
    wrong = await http.post(
        url, headers={"Authorization": "Bearer nope"}, json={"text": "hi", "client_message_id": "x"}
    )

    assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
    assert wrong.status_code == 401 and "unknown" in wrong.json()["detail"]


async def test_another_customers_conversation_looks_like_none(http: httpx.AsyncClient, customer: Customer) -> None:
    stranger = await new_customer(http)

    response = await http.get(f"/api/chat/conversations/{customer.conversation_id}/messages", headers=stranger.headers)

    assert response.status_code == 404


async def test_bad_client_message_id_is_refused(customer: Customer) -> None:
    response = await customer.say("hi", client_message_id="has spaces and / slashes")

    assert response.status_code == 422
    assert "client_message_id" in response.text


async def test_the_customer_socket_replays_what_was_missed_without_duplicates(
    live: LiveServer, customer: Customer
) -> None:
    await customer.say("first", client_message_id="1")
    await customer.say("second", client_message_id="2")

    socket = await customer.follow(live.ws_url, after_seq=1)
    replayed = await socket.next(is_message("customer"))

    assert replayed["message"]["text"] == "second"
    assert all(e["message"]["seq"] > 1 for e in socket.seen if e["type"] == "message")
    await socket.close()


@pytest.mark.parametrize(
    ("hello", "code", "reason"),
    [
        ('{"type": "hello", "token": "wrong"}', 4401, "unknown or expired web chat token"),
        ("not json", 4400, "not JSON"),
        ('{"type": "hi"}', 4400, "hello"),
    ],
)
async def test_customer_socket_with_a_bad_hello_is_closed_with_a_reason(
    live: LiveServer, customer: Customer, hello: str, code: int, reason: str
) -> None:
    async with connect(f"{live.ws_url}/ws/chat/{customer.conversation_id}") as socket:
        await socket.send(hello)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert reason in closed.value.rcvd.reason


NESTED = "[" * 30_000 + "]" * 30_000


@pytest.mark.parametrize(
    ("hello", "reason"),
    [
        (b"{}", "binary"),
        (NESTED, "nests"),
        ({"type": "hello", "after_seq": 2**70}, "after_seq"),
        ({"type": "hello", "after_seq": True}, "after_seq"),
    ],
)
async def test_customer_socket_with_an_unreadable_hello_is_closed_with_4400(
    live: LiveServer, customer: Customer, hello: bytes | str | dict[str, object], reason: str
) -> None:
    frame = json.dumps({**hello, "token": customer.token}) if isinstance(hello, dict) else hello

    async with connect(f"{live.ws_url}/ws/chat/{customer.conversation_id}") as socket:
        await socket.send(frame)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (4400, True)


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b'{"type": "typing", "typing": true}', "binary"),
        (NESTED, "nests"),
        ('{"type": "typing", "typing": "yes"}', "typing"),
        ('{"type": "hello", "token": "again"}', "type"),
    ],
)
async def test_a_frame_that_is_no_typing_gets_an_error_and_messages_still_arrive(
    live: LiveServer, customer: Customer, frame: bytes | str, problem: str
) -> None:
    socket = await customer.follow(live.ws_url)

    await socket.connection.send(frame)
    error = await socket.next_of("error")
    await customer.say("still here?")
    echoed = await socket.next(is_message("customer", "still here?"))

    assert problem in error["detail"]
    assert echoed["message"]["seq"] == 1
    await socket.close()
