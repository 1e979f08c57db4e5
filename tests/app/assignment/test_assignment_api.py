"""Supervisors ask the router over HTTP: the queues and people now, why a conversation went where it
went, alerts, and moving a chat to someone else."""

import asyncio
import uuid

import httpx
import pytest

from app.cli.background import LiveServer
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN
from app.people.models import Role
from tests.support import factories
from tests.support.clients import agent_socket, new_customer


def supervisor_token(live: LiveServer) -> str:
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        _, token = factories.agent(session, role=Role.supervisor, capacity={"webchat": 0})
    engine.dispose()
    return token


async def test_a_supervisor_reads_why_a_conversation_went_to_maria(live: LiveServer, http: httpx.AsyncClient) -> None:
    maria, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    customer = await new_customer(http)
    await customer.say("I need help with my order")
    await maria.next_of("offer")
    headers = {"Authorization": f"Bearer {supervisor_token(live)}"}

    response = await http.get(f"/api/assignment/conversations/{customer.conversation_id}/decisions", headers=headers)

    assert response.status_code == 200
    (decision,) = response.json()
    assert decision["agent_id"] == 1 and decision["eligible"] == [1]
    assert "chose Maria" in decision["reason"]
    await maria.close()


async def test_only_supervisors_may_ask(live: LiveServer, http: httpx.AsyncClient) -> None:
    url = f"/api/assignment/conversations/{uuid.uuid4()}/decisions"

    anonymous = await http.get(url)
    agent = await http.get(url, headers={"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"})
    unknown = await http.get(url, headers={"Authorization": f"Bearer {supervisor_token(live)}"})

    assert anonymous.status_code == 401
    assert agent.status_code == 403 and "not a supervisor" in agent.json()["detail"]
    assert unknown.status_code == 404


@pytest.mark.settings(offer_timeout_seconds=1)
async def test_alerts_list_an_agent_who_stopped_answering(live: LiveServer, http: httpx.AsyncClient) -> None:
    maria, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    customer = await new_customer(http)
    await customer.say("anyone there?")
    await maria.next_of("presence")

    response = await http.get("/api/assignment/alerts", headers={"Authorization": f"Bearer {supervisor_token(live)}"})

    (alert,) = response.json()
    assert alert["kind"] == "agent_set_away" and alert["agent_id"] == 1
    assert alert["message"] == "Maria let 2 offers in a row run out and was set to away"
    await maria.close()


async def test_the_overview_shows_queues_with_their_waits_and_people_with_their_load(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {supervisor_token(live)}"}
    waiting = await new_customer(http)
    await waiting.say("My order 12345 never arrived")  # the bot hands it off; nobody is online: it waits
    for _ in range(300):  # the handoff comes after the bot's failed turn, so allow a loaded machine
        before = (await http.get("/api/assignment/overview", headers=headers)).json()
        if before["queues"]:
            break
        await asyncio.sleep(0.1)
    maria, welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    # Offered as she connects: in the welcome's snapshot, or as an event just after it.
    in_welcome = [o for o in welcome["offers"] if o["offer"]["conversation_id"] == waiting.conversation_id]
    offer = in_welcome[0] if in_welcome else await maria.offer_for(waiting.conversation_id)
    await maria.command("accept", offer_id=offer["offer"]["id"])
    after = (await http.get("/api/assignment/overview", headers=headers)).json()
    await maria.close()

    (queue,) = before["queues"]
    assert queue["channel"] == "webchat" and queue["waiting"] == 1 and queue["oldest_wait_seconds"] >= 0
    assert queue["breached"] == 0 and before["sla_seconds"] > 0
    maria_before = next(p for p in before["people"] if p["name"] == "Maria")
    maria_after = next(p for p in after["people"] if p["name"] == "Maria")
    assert maria_before["presence"] == "offline" and maria_before["load"] == {}
    assert after["queues"] == []
    assert maria_after["presence"] == "online" and maria_after["load"] == {"webchat": 1}
    assert maria_after["conversations"] == [waiting.conversation_id]


async def test_a_supervisor_moves_a_chat_from_an_agent_to_another(live: LiveServer, http: httpx.AsyncClient) -> None:
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        omar, omar_token = factories.agent(session, capacity={"webchat": 2}, teams=["overflow"])
    engine.dispose()
    headers = {"Authorization": f"Bearer {supervisor_token(live)}"}
    maria, _ = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    customer = await new_customer(http)
    await customer.say("My order 12345 never arrived")
    offer = await maria.offer_for(customer.conversation_id)
    await maria.command("accept", offer_id=offer["offer"]["id"])
    other, _ = await agent_socket(live.ws_url, omar_token)

    moved = await http.post(
        f"/api/assignment/conversations/{customer.conversation_id}/reassign",
        headers=headers,
        json={"to_agent_id": omar.id, "note": "Maria is off sick"},
    )
    offered = await other.offer_for(customer.conversation_id)
    again = await http.post(
        f"/api/assignment/conversations/{customer.conversation_id}/reassign",
        headers=headers,
        json={"to_team": "overflow"},
    )
    both = await http.post(
        f"/api/assignment/conversations/{customer.conversation_id}/reassign",
        headers=headers,
        json={"to_team": "overflow", "to_agent_id": omar.id},
    )
    await maria.close()
    await other.close()

    assert moved.status_code == 200
    assert "Reassigned by" in offered["history"][-1]["text"] and "Maria is off sick" in offered["history"][-1]["text"]
    assert again.status_code == 409 and "not with an agent" in again.json()["detail"]
    assert both.status_code == 422
