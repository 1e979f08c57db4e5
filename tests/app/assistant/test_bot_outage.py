"""While Rasa cannot be reached, no customer is left unanswered, and Rasa is not hammered.

The `live` service looks for Rasa on a port where nothing listens, which is what a dead Rasa looks
like; tests/e2e/test_bot_outage.py stops and restarts the real Rasa processes.
"""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from app.assignment.models import WorkItem
from app.cli.background import LiveServer
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN
from knowledge.demo import load_demo_articles
from tests.support import factories
from tests.support.clients import Socket, agent_socket, is_message, new_customer

ANSWERS = {article.slug: article.answer for article in load_demo_articles()}


@pytest.fixture
async def agent(live: LiveServer) -> AsyncIterator[Socket]:
    socket, _welcome = await agent_socket(live.ws_url, DEMO_AGENT_TOKEN)
    yield socket
    await socket.close()


async def test_a_sure_match_is_answered_from_the_knowledge_base(live: LiveServer, http: httpx.AsyncClient) -> None:
    customer = await new_customer(http)
    chat = await customer.follow(live.ws_url)

    await customer.say("How do I reset my password?")

    answer = await chat.next(is_message("bot"))
    assert answer["message"]["text"] == ANSWERS["reset-password"]
    provenance = answer["message"]["payload"]["answer"]
    assert provenance["article"]["slug"] == "reset-password" and provenance["source"] == "knowledge_base"
    # Answered, not handed off: the bot keeps the conversation.
    assert [m["author"] for m in await customer.history()] == ["customer", "bot"]
    await chat.close()


async def test_anything_else_goes_to_a_person_with_the_reason_and_the_topic(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await new_customer(http)
    chat = await customer.follow(live.ws_url)

    await customer.say("My order 12345 never arrived")

    await chat.next(is_message("bot", "bringing in a colleague"))
    offer = await agent.offer_for(customer.conversation_id)
    packet = offer["history"][-1]["payload"]["packet"]
    assert packet["reason"] == "assistant_unavailable"
    assert packet["articles"][0]["slug"] == "track-order"
    assert packet["skills"] == ["orders"]
    await chat.close()


async def test_a_customer_writing_german_is_offered_to_an_agent_who_speaks_it(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        _, token = factories.agent(session, skills={"orders": 5}, languages=("de", "en"))
    german, _welcome = await agent_socket(live.ws_url, token)
    customer = await new_customer(http)

    await customer.say("Meine Bestellung 12345 ist nie angekommen, ich möchte mit einem Menschen sprechen")

    # The demo agent, connected first and idle longer, would be chosen if the case were in English.
    await german.offer_for(customer.conversation_id)
    with session_factory(engine)() as session:
        work = session.get(WorkItem, uuid.UUID(customer.conversation_id))
    engine.dispose()
    assert work is not None and work.language == "de"
    await german.close()


async def test_a_language_nobody_on_the_team_speaks_is_routed_in_the_default_one(
    live: LiveServer, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer = await new_customer(http)

    await customer.say("Où est ma commande 12345 ? Je ne l'ai toujours pas reçue")

    await agent.offer_for(customer.conversation_id)
    engine = make_engine(live.app.state.settings.database_url)
    with session_factory(engine)() as session:
        work = session.get(WorkItem, uuid.UUID(customer.conversation_id))
    engine.dispose()
    assert work is not None and work.language == "en"


@pytest.mark.settings(rasa_failures_to_open=2, rasa_probe_seconds=0.2)
async def test_after_failures_in_a_row_the_bot_is_no_longer_asked(live: LiveServer, http: httpx.AsyncClient) -> None:
    for text in ("hi", "hello", "anyone there?", "I need help with my order"):
        customer = await new_customer(http)
        chat = await customer.follow(live.ws_url)
        await customer.say(text)
        await chat.next(is_message("bot", "bringing in a colleague"))
        await chat.close()

    assistant = (await http.get("/healthz")).json()["assistant"]
    # Two failures opened the circuit; the two messages after it were not sent to Rasa at all, and
    # the probes (every 0.2 s) keep finding nothing there.
    assert assistant["circuit"] == "open"
    assert assistant["failures_in_a_row"] == 2
    assert assistant["times_opened"] == 1
