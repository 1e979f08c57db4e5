"""The walking skeleton end to end, with the real processes `carebridge up` starts.

A customer asks an FAQ question and gets the article's answer from the Rasa bot; asks for a person;
the agent, connected over a websocket, receives the offer with the whole history, accepts and
replies; the customer receives the reply; the bot says nothing while the agent owns the conversation.
"""

from collections.abc import AsyncIterator

import httpx
import pytest

from app.cli.background import Stack
from knowledge.demo import load_demo_articles
from tests.support.accounts import add_person
from tests.support.clients import agent_socket, is_message, new_customer

pytestmark = pytest.mark.slow

ANSWERS = {article.slug: article.answer for article in load_demo_articles()}


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as client:
        yield client


async def test_bot_answers_then_a_person_takes_over(stack: Stack, http: httpx.AsyncClient) -> None:
    agent, _welcome = await agent_socket(stack.ws_url, stack.agent_token)
    customer = await new_customer(http)
    chat = await customer.follow(stack.ws_url)

    await customer.say("hello")
    greeting = await chat.next(is_message("bot"))
    assert "Kestrel's assistant" in greeting["message"]["text"]

    await customer.say("How long does delivery take?")
    answer = await chat.next(is_message("bot"))
    assert answer["message"]["text"] == ANSWERS["delivery-times"]
    assert answer["message"]["payload"]["answer"]["article"] == {
        "slug": "delivery-times",
        "title": "How long does delivery take?",
        "version": 1,
    }
    rated = await http.post(
        f"/api/chat/conversations/{customer.conversation_id}/messages/{answer['message']['id']}/feedback",
        json={"helpful": True},
        headers=customer.headers,
    )
    assert rated.status_code == 200

    await customer.say("I want to talk to a person")
    await chat.next(is_message("bot", "connecting you with a colleague"))

    offer = await agent.offer_for(customer.conversation_id)
    texts = [m["text"] for m in offer["history"]]
    assert texts[:4] == [
        "hello",
        greeting["message"]["text"],
        "How long does delivery take?",
        ANSWERS["delivery-times"],
    ]
    handoff = offer["history"][-1]
    assert handoff["payload"]["packet"]["reason"] == "customer_request"
    assert handoff["payload"]["packet"]["intent"]["name"] == "human_handoff"

    accepted = await agent.command("accept", offer_id=offer["offer"]["id"])
    assert accepted["type"] == "ack"
    await chat.next(is_message("system", "joined the conversation"))

    await customer.say("Where is my refund? It's been two weeks")
    await agent.next(is_message("customer", "Where is my refund"))
    await agent.command("send", conversation_id=customer.conversation_id, text="Let me look into that for you.")
    reply = await chat.next(is_message("agent"))
    assert reply["message"]["text"] == "Let me look into that for you."

    # The bot was not asked while a person owned the conversation: neither its history nor Rasa's
    # own tracker has the question sent after the handoff.
    history = await customer.history()
    after_join = history[[m["text"] for m in history].index("Maria joined the conversation") :]
    assert [m["author"] for m in after_join] == ["system", "customer", "agent"]
    tracker = (
        await http.get(f"{stack.rasa_url}/conversations/{customer.conversation_id}/tracker", params=stack.rasa_query)
    ).json()
    user_texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
    assert "I want to talk to a person" in user_texts
    assert "Where is my refund? It's been two weeks" not in user_texts

    resolved = await agent.command("resolve", conversation_id=customer.conversation_id)
    assert resolved["type"] == "ack"
    await chat.next(is_message("system", "resolved"))
    await chat.close()
    await agent.close()


async def test_a_question_the_knowledge_base_cannot_answer_goes_to_a_person_with_what_was_tried(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    agent, _welcome = await agent_socket(stack.ws_url, stack.agent_token)
    customer = await new_customer(http)
    chat = await customer.follow(stack.ws_url)

    await customer.say("Do you offer guided hiking tours?")
    await chat.next(is_message("bot", "bringing in a colleague"))

    offer = await agent.offer_for(customer.conversation_id)
    packet = offer["history"][-1]["payload"]["packet"]
    assert packet["reason"] in ("no_answer", "low_confidence")
    threshold = (await http.post("/api/kb/search", json={"query": "hiking tours"})).json()["threshold"]
    assert len(packet["articles"]) == 3 and packet["articles"][0]["confidence"] < threshold
    accepted = await agent.command("accept", offer_id=offer["offer"]["id"])
    await agent.command("resolve", conversation_id=accepted["result"]["conversation"]["id"])
    await chat.close()
    await agent.close()

    manager = {"Authorization": f"Bearer {add_person(stack, 'knowledge_manager').token}"}
    groups = (await http.get("/api/kb/unanswered", headers=manager)).json()
    assert "Do you offer guided hiking tours?" in [s for g in groups for s in g["samples"]]
    rated = (await http.get("/api/kb/articles/delivery-times", headers=manager)).json()["stats"]
    assert rated["answered"] >= 1 and rated["helpful"] >= 1
