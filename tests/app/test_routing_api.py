"""Supervisors ask the router over HTTP why a conversation went where it went."""

import uuid

import httpx
import pytest

from app.agents.models import Role
from app.cli.background import LiveServer
from app.db import make_engine, session_factory, unit_of_work
from app.settings import DEMO_AGENT_TOKEN
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

    response = await http.get(f"/api/routing/conversations/{customer.conversation_id}/decisions", headers=headers)

    assert response.status_code == 200
    (decision,) = response.json()
    assert decision["agent_id"] == 1 and decision["eligible"] == [1]
    assert "chose Maria" in decision["reason"]
    await maria.close()


async def test_only_supervisors_may_ask(live: LiveServer, http: httpx.AsyncClient) -> None:
    url = f"/api/routing/conversations/{uuid.uuid4()}/decisions"

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

    response = await http.get("/api/routing/alerts", headers={"Authorization": f"Bearer {supervisor_token(live)}"})

    (alert,) = response.json()
    assert alert["kind"] == "agent_set_away" and alert["agent_id"] == 1
    assert alert["message"] == "Maria let 2 offers in a row run out and was set to away"
    await maria.close()
