"""The agent's websocket with a plain websocket client: authentication, commands, and the offer flow."""

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.cli.background import LiveServer
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN
from app.people.models import Role
from tests.support import factories
from tests.support.clients import Customer, Socket, agent_socket, is_message, new_customer


@pytest.fixture
async def agent(live: LiveServer) -> AsyncIterator[Socket]:
    socket, _welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    yield socket
    await socket.close()


async def handed_off(http: httpx.AsyncClient) -> Customer:
    """A customer whose first message was handed to a person (no Rasa runs in these tests)."""
    customer = await new_customer(http)
    response = await customer.say("My order 12345 never arrived")
    assert response.status_code == 201
    return customer


@pytest.mark.parametrize(
    ("hello", "code", "reason"),
    [
        (json.dumps({"type": "hello", "token": "stolen"}), 4401, "unknown agent token"),
        ("{broken", 4400, "hello"),
        (json.dumps({"type": "accept", "offer_id": 1}), 4400, "hello"),
    ],
)
async def test_a_bad_hello_closes_the_socket_with_a_reason(
    live: LiveServer, hello: str, code: int, reason: str
) -> None:
    async with connect(f"{live.ws_url}/ws/agent") as socket:
        await socket.send(hello)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (code, True)


async def test_welcome_names_the_agent(live: LiveServer) -> None:
    socket, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)

    assert welcome["agent"]["name"] == "Maria"
    assert welcome["protocol"] == 2
    assert welcome["conversations"] == [] and welcome["offers"] == []
    await socket.close()


async def test_bad_commands_get_errors_and_the_connection_stays_usable(agent: Socket) -> None:
    await agent.connection.send("this is not json")
    not_json = await agent.next_of("error")
    unknown = await agent.command("dance")
    missing_field = await agent.command("accept")
    no_such_offer = await agent.command("accept", offer_id=999)

    assert not_json["id"] is None and "not JSON" in not_json["detail"]
    assert unknown["type"] == "error" and "dance" in unknown["detail"]
    assert missing_field["type"] == "error" and "offer_id" in missing_field["detail"]
    assert no_such_offer["type"] == "error" and "offer 999 is not open for agent" in no_such_offer["detail"]


async def test_offer_accept_reply_resolve(live: LiveServer, http: httpx.AsyncClient, agent: Socket) -> None:
    customer = await handed_off(http)
    follower = await customer.follow(live.ws_url)

    offer = await agent.next_of("offer")
    authors = [m["author"] for m in offer["history"]]
    assert authors == ["customer", "bot", "system"]
    packet = offer["history"][-1]["payload"]["packet"]
    assert packet["reason"] == "assistant_unavailable" and offer["history"][-1]["internal"]

    accepted = await agent.command("accept", offer_id=offer["offer"]["id"])
    assert accepted["type"] == "ack"
    assert accepted["result"]["conversation"]["owner"] == "agent"
    await follower.next(is_message("system", "Maria joined"))

    sent = await agent.command("send", conversation_id=customer.conversation_id, text="Hi, Maria here. Let me check.")
    assert sent["type"] == "ack"
    delivered = await follower.next(is_message("agent"))
    assert delivered["message"]["text"] == "Hi, Maria here. Let me check."

    await customer.say("Thank you!")
    heard = await agent.next(is_message("customer", "Thank you!"))
    assert heard["conversation_id"] == customer.conversation_id

    resolved = await agent.command("resolve", conversation_id=customer.conversation_id)
    assert resolved["type"] == "ack"
    await follower.next(is_message("system", "resolved"))
    await follower.close()


async def test_an_agent_cannot_write_into_a_conversation_they_do_not_own(
    http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await handed_off(http)
    await agent.next_of("offer")

    refused = await agent.command("send", conversation_id=customer.conversation_id, text="sneaky")
    unknown = await agent.command("send", conversation_id=str(uuid.uuid4()), text="hello")

    assert refused["type"] == "error" and "does not own" in refused["detail"]
    assert unknown["type"] == "error" and "does not exist" in unknown["detail"]
    assert "sneaky" not in [m["text"] for m in await customer.history()]


async def test_a_reconnecting_agent_gets_their_conversations_back_with_history(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await handed_off(http)
    offer = await agent.next_of("offer")
    await agent.command("accept", offer_id=offer["offer"]["id"])
    await agent.close()

    again, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)

    (view,) = welcome["conversations"]
    assert view["conversation"]["id"] == customer.conversation_id
    assert next(m["text"] for m in view["history"]) == "My order 12345 never arrived"
    await again.close()


async def test_an_offer_left_open_when_the_agent_disconnects_is_offered_again(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    await handed_off(http)
    first = await agent.next_of("offer")
    await agent.close()

    again, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    offers = welcome["offers"] or [await again.next_of("offer")]

    assert offers[0]["offer"]["id"] != first["offer"]["id"]
    assert offers[0]["offer"]["conversation_id"] == first["offer"]["conversation_id"]
    await again.close()


async def second_agent(live: LiveServer, *, role: Role = Role.agent) -> tuple[int, str]:
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        agent, token = factories.agent(session, role=role)
    engine.dispose()
    assert agent.id is not None
    return agent.id, token


async def test_a_transfer_reaches_the_other_agent_as_an_offer_with_the_note(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    colleague_id, token = await second_agent(live)
    customer = await handed_off(http)
    offer = await agent.next_of("offer")
    await agent.command("accept", offer_id=offer["offer"]["id"])
    colleague, _ = await agent_socket(live.ws_url, token)

    moved = await agent.command(
        "transfer", conversation_id=customer.conversation_id, to_agent_id=colleague_id, note="VIP, handle with care"
    )
    bad = await agent.command("transfer", conversation_id=customer.conversation_id, to_team="x", to_agent_id=1)

    assert moved["type"] == "ack"
    assert bad["type"] == "error" and "exactly one of to_agent_id and to_team" in bad["detail"]
    handed = await colleague.next_of("offer")
    assert handed["offer"]["conversation_id"] == customer.conversation_id
    assert handed["history"][-1]["text"].endswith("VIP, handle with care")
    await colleague.close()


async def test_going_away_withdraws_open_offers(http: httpx.AsyncClient, agent: Socket) -> None:
    await handed_off(http)
    offer = await agent.next_of("offer")

    away = await agent.command("set_status", status="away")

    assert away == {"type": "ack", "id": away["id"], "result": {"presence": "away"}}
    withdrawn = await agent.next_of("offer_withdrawn")
    assert (withdrawn["offer_id"], withdrawn["status"]) == (offer["offer"]["id"], "withdrawn")


@pytest.mark.settings(offer_timeout_seconds=1)
async def test_a_supervisor_is_alerted_when_an_agent_lets_two_offers_run_out(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    _, token = await second_agent(live, role=Role.supervisor)
    supervisor, welcome = await agent_socket(live.ws_url, token)
    assert welcome["agent"]["role"] == "supervisor"
    await supervisor.command("set_status", status="away")
    await handed_off(http)

    await agent.next_of("offer")
    await agent.next_of("offer")
    set_away = await agent.next_of("presence")
    alert = await supervisor.next_of("alert")

    assert set_away["presence"] == "away"
    assert alert["alert"]["kind"] == "agent_set_away" and "Maria let 2 offers" in alert["alert"]["message"]
    await supervisor.close()


async def test_ping_gets_pong(agent: Socket) -> None:
    await agent.connection.send('{"type": "ping"}')

    assert await agent.next_of("pong") == {"type": "pong"}


async def accepted(http: httpx.AsyncClient, agent: Socket) -> Customer:
    customer = await handed_off(http)
    offer = await agent.offer_for(customer.conversation_id)
    assert (await agent.command("accept", offer_id=offer["offer"]["id"]))["type"] == "ack"
    return customer


async def test_a_private_note_reaches_agents_and_never_the_customer(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await accepted(http, agent)
    follower = await customer.follow(live.ws_url)

    noted = await agent.command("note", conversation_id=customer.conversation_id, text="VIP: refund approved")
    event = await agent.next(lambda e: e.get("type") == "message" and e["message"]["text"] == "VIP: refund approved")
    await agent.command("send", conversation_id=customer.conversation_id, text="Done, refund on its way")
    await follower.next(is_message("agent", "Done, refund on its way"))
    await follower.close()

    assert noted["type"] == "ack"
    assert event["message"]["kind"] == "note" and event["message"]["internal"] is True
    assert "VIP: refund approved" not in [m["text"] for m in await customer.history()]
    assert "VIP" not in json.dumps(follower.seen)


async def test_handing_back_gives_the_bot_the_conversation_without_closing_it(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await accepted(http, agent)
    follower = await customer.follow(live.ws_url)

    handed = await agent.command("hand_back", conversation_id=customer.conversation_id)
    told = await follower.next(is_message("system", "back with the assistant"))
    again = await agent.command("send", conversation_id=customer.conversation_id, text="still mine?")
    # The bot has it now: with no Rasa here it hands the next question straight back to a person.
    await customer.say("One more question about the order")
    offered_again = await agent.offer_for(customer.conversation_id)
    await follower.close()

    assert handed["type"] == "ack"
    assert told["message"]["payload"]["event"] == "handed_back"
    assert again["type"] == "error" and "does not own" in again["detail"]
    assert offered_again["history"][-1]["payload"]["packet"]["reason"] == "assistant_unavailable"


async def test_typing_shows_on_the_other_side_and_is_not_kept(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await accepted(http, agent)
    follower = await customer.follow(live.ws_url)

    await agent.command("typing", conversation_id=customer.conversation_id, typing=True)
    agent_typing = await follower.next_of("typing")
    await follower.connection.send(json.dumps({"type": "typing", "typing": True}))
    customer_typing = await agent.next_of("typing")
    refused = await agent.command("typing", conversation_id=str(uuid.uuid4()), typing=True)
    await follower.close()

    assert agent_typing == {"type": "typing", "author": "agent", "typing": True}
    assert customer_typing == {
        "type": "typing",
        "conversation_id": customer.conversation_id,
        "author": "customer",
        "typing": True,
    }
    assert refused["type"] == "error" and "does not exist" in refused["detail"]


NESTED = "[" * 30_000 + "]" * 30_000


@pytest.mark.parametrize(
    ("frame", "command_id", "problem"),
    [
        (b'{"type": "ping"}', None, "binary"),
        (NESTED, None, "nests"),
        (json.dumps({"id": "t", "type": "note", "text": "x" * 70_000}), None, "limit"),
        ('{"id": "t", "type": "note", "text": "\\ud800"}', None, "surrogate"),
        (json.dumps({"id": [[["deep"]]], "type": "dance"}), None, "dance"),
        (json.dumps({"id": "t", "type": "accept", "offer_id": 2**70}), "t", "offer_id"),
    ],
)
async def test_a_frame_that_is_no_command_gets_an_error_and_the_connection_stays_up(
    agent: Socket, frame: str | bytes, command_id: str | None, problem: str
) -> None:
    await agent.connection.send(frame)
    error = await agent.next_of("error")
    await agent.connection.send('{"type": "ping"}')

    assert (error["id"], problem in error["detail"]) == (command_id, True)
    assert await agent.next_of("pong") == {"type": "pong"}


@pytest.mark.parametrize(
    ("hello", "reason"),
    [
        (b'{"type": "hello", "token": "demo-agent-token"}', "binary"),
        (NESTED, "nests"),
        (json.dumps({"type": "hello", "token": DEMO_AGENT_TOKEN, "after_seq": 2**70}), "after_seq"),
        (json.dumps({"type": "hello", "token": DEMO_AGENT_TOKEN, "after_seq": True}), "after_seq"),
    ],
)
async def test_a_hello_that_cannot_be_read_is_closed_with_4400(
    live: LiveServer, hello: str | bytes, reason: str
) -> None:
    async with connect(f"{live.ws_url}/ws/agent") as socket:
        await socket.send(hello)
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (4400, True)
