"""The agent's feed over a plain websocket client: every event numbered, a reconnecting console gets
exactly what it missed (also after a restart, and from another instance through Redis), and a
silent or malformed connection is closed with a reason."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.core.db import make_engine, session_factory
from app.core.settings import DEMO_AGENT_TOKEN
from app.people import service as people
from app.people.models import Person
from app.realtime import feed
from knowledge import OnnxEmbedder
from routing import Presence
from tests.support.clients import Customer, Event, Socket, agent_socket, is_message, new_customer
from tests.support.instances import instance, seed
from tests.support.waits import until_subscribed

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def seeded(sqlite_url: str) -> str:
    seed(sqlite_url)
    return sqlite_url


async def drain(socket: Socket, seconds: float = 1.0) -> list[Event]:
    """Everything the socket receives until it has been quiet for `seconds`."""
    received = list(socket.seen)
    socket.seen.clear()
    while True:
        try:
            received.append(json.loads(await asyncio.wait_for(socket.connection.recv(), seconds)))
        except TimeoutError:
            return received


def numbered(events: list[Event]) -> list[Event]:
    return [event for event in events if "seq" in event and event.get("type") != "welcome"]


async def accepted_chat(agent: Socket, http: httpx.AsyncClient) -> tuple[Customer, Event]:
    """A new customer's chat, handed off by the bot and accepted by the agent; with the offer."""
    customer = await new_customer(http)
    await customer.say("My order 12345 never arrived")
    offer = await agent.next_of("offer")
    await agent.command("accept", offer_id=offer["offer"]["id"])
    return customer, offer


async def test_each_event_is_numbered_one_after_the_other(seeded: str, tmp_path: Path, embedder: OnnxEmbedder) -> None:
    with instance(seeded, tmp_path, embedder) as live:
        agent, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
        async with httpx.AsyncClient(base_url=live.http_url, timeout=10) as http:
            customer, offer = await accepted_chat(agent, http)
            await customer.say("Are you there?")
            await customer.say("Hello?")
            heard = await agent.next(is_message("customer", "Are you there?"))
            events = numbered([offer, heard, *await drain(agent)])
        await agent.close()

    seqs = sorted(event["seq"] for event in events)
    assert welcome["seq"] == 0 and welcome["resumed"] is False
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 3
    assert [e["seq"] for e in events] == seqs


async def test_a_console_that_reconnects_after_a_restart_gets_exactly_what_it_missed(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with instance(seeded, tmp_path, embedder) as live:
        agent, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
        async with httpx.AsyncClient(base_url=live.http_url, timeout=10) as http:
            customer, offer = await accepted_chat(agent, http)
            seen_before = offer["seq"]
            for text in ("first while you read", "second while you read"):
                await customer.say(text)
            await agent.next(is_message("customer", "second while you read"))
            sent_first_time = numbered(await drain(agent)) + numbered(agent.seen)
        await agent.close()

    with instance(seeded, tmp_path, embedder) as restarted:
        again, welcome = await agent_socket(restarted.ws_url, DEMO_AGENT_TOKEN, after_seq=seen_before)
        replayed = numbered(await drain(again))
        await again.close()

    seqs = [event["seq"] for event in replayed]
    assert welcome["resumed"] is True and welcome["seq"] == seen_before
    assert seqs == list(range(seen_before + 1, seen_before + 1 + len(seqs)))
    texts = [e["message"]["text"] for e in replayed if e["type"] == "message"]
    assert texts.index("first while you read") < texts.index("second while you read")
    # What the first connection saw after the offer comes again, the same, and nothing twice.
    assert [e for e in sent_first_time if e in replayed] == sorted(sent_first_time, key=lambda e: e["seq"])
    assert len({json.dumps(e, sort_keys=True) for e in replayed}) == len(replayed)


async def test_a_message_is_in_the_agents_feed_when_the_customer_is_answered(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    """The feed event commits with the message: once the customer has the 201, a console that
    connects anywhere will be sent it, whatever becomes of this instance."""
    with instance(seeded, tmp_path, embedder) as live:
        agent, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
        async with httpx.AsyncClient(base_url=live.http_url, timeout=10) as http:
            customer, _ = await accepted_chat(agent, http)
            await agent.close()
            engine = make_engine(seeded)
            with session_factory(engine)() as session:
                agent_id = people.authenticate(session=session, token=DEMO_AGENT_TOKEN).id
                assert agent_id is not None
                before = feed.last_seq(session, agent_id)
            answered = [await customer.say(f"message {n} while you were away") for n in range(5)]
            with session_factory(engine)() as session:
                kept = feed.after(session, agent_id, before)
            engine.dispose()

    assert all(response.status_code == 201 for response in answered)
    assert kept is not None
    texts = [event["message"]["text"] for event in kept if event["type"] == "message"]
    assert texts == [f"message {n} while you were away" for n in range(5)]
    assert [event["seq"] for event in kept] == list(range(before + 1, before + 1 + len(kept)))


async def test_a_number_the_feed_never_gave_out_starts_afresh(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with instance(seeded, tmp_path, embedder) as live:
        agent, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN, after_seq=10_000)
        await agent.close()

    assert welcome["resumed"] is False and welcome["seq"] < 10_000 and "conversations" in welcome


@pytest.mark.parametrize("after_seq", [-1, "3", 2.5, True])
async def test_a_bad_after_seq_closes_the_socket_with_a_reason(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder, after_seq: object
) -> None:
    with instance(seeded, tmp_path, embedder) as live:
        async with connect(f"{live.ws_url}/ws/agent") as socket:
            await socket.send(json.dumps({"type": "hello", "token": DEMO_AGENT_TOKEN, "after_seq": after_seq}))
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400 and "after_seq" in closed.value.rcvd.reason


async def test_a_silent_connection_is_closed_and_the_agent_goes_offline(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with instance(seeded, tmp_path, embedder, agent_silence_seconds=1.0) as live:
        agent, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await agent.connection.recv()
        for _ in range(50):
            presence = maria_presence(seeded)
            if presence == Presence.offline:
                break
            await asyncio.sleep(0.1)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    assert presence == Presence.offline


async def test_the_server_sends_heartbeats_when_quiet_and_a_pinging_client_stays_connected(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with instance(seeded, tmp_path, embedder, agent_silence_seconds=7.0) as live:
        agent, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
        # Nothing to say for 5 seconds: a heartbeat.
        beat = await agent.next_of("heartbeat", seconds=6.5)
        # Pinging every 1.5 s for 9 s, beyond the silence limit: pongs, and no heartbeat needed.
        frames: list[Event] = []
        for _ in range(6):
            await agent.connection.send(json.dumps({"type": "ping"}))
            frames += await drain(agent, seconds=1.5)
        still_open = await agent.command("set_status", status="online")
        await agent.close()

    assert beat == {"type": "heartbeat"}
    assert [frame["type"] for frame in frames] == ["pong"] * 6
    assert still_open["type"] == "ack"


@pytest.mark.redis
async def test_an_agent_on_one_instance_hears_of_work_handled_by_another(
    seeded: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    with (
        instance(seeded, tmp_path / "a", embedder, events_url=REDIS_URL) as first,
        instance(seeded, tmp_path / "b", embedder, events_url=REDIS_URL) as second,
    ):
        agent, _ = await agent_socket(first.ws_url, DEMO_AGENT_TOKEN)
        await until_subscribed(REDIS_URL, seeded, instances=2)
        async with httpx.AsyncClient(base_url=second.http_url, timeout=10) as http:
            customer = await new_customer(http)
            follower = await customer.follow(second.ws_url)
            await customer.say("My order 12345 never arrived")
            offer = await agent.offer_for(customer.conversation_id)
            await agent.command("accept", offer_id=offer["offer"]["id"])
            await customer.say("Hello from the other instance")
            heard = await agent.next(is_message("customer", "Hello from the other instance"))
            await agent.command("send", conversation_id=customer.conversation_id, text="Maria on the first one")
            reply = await follower.next(is_message("agent", "Maria on the first one"))
            events = numbered([offer, heard, *await drain(agent)])
            await follower.close()
        await agent.close()

    assert reply["message"]["author"] == "agent"
    seqs = [event["seq"] for event in sorted(events, key=lambda e: e["seq"])]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def maria_presence(database_url: str) -> Presence:
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        maria = session.exec(select(Person).where(Person.name == "Maria")).one()
    engine.dispose()
    return maria.presence
