"""The bot's conversation design, through the real Rasa server, action server and service.

Each case is a customer as the chat page is one; handoffs are checked where the agent sees them, in
the offer's handoff packet, and every test accepts and resolves what it handed off, so the demo
agent stays free for the next.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.cli.background import Stack
from tests.support.accounts import add_person
from tests.support.clients import Customer, Socket, agent_socket, is_message, new_customer

pytestmark = pytest.mark.slow


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.http_url, timeout=30) as client:
        yield client


@pytest.fixture
async def agent(stack: Stack) -> AsyncIterator[Socket]:
    socket, _welcome = await agent_socket(stack.ws_url, stack.agent_token)
    yield socket
    await socket.close()


async def chat_with(stack: Stack, http: httpx.AsyncClient) -> tuple[Customer, Socket]:
    customer = await new_customer(http)
    return customer, await customer.follow(stack.ws_url)


async def bot_says(customer: Customer, chat: Socket, text: str, contains: str = "") -> dict[str, Any]:
    await customer.say(text)
    reply = await chat.next(is_message("bot", contains), seconds=30)
    message: dict[str, Any] = reply["message"]
    return message


async def take_and_resolve(agent: Socket, customer: Customer) -> dict[str, Any]:
    """The handoff packet of the customer's conversation, as the agent's offer carries it."""
    offer = await agent.offer_for(customer.conversation_id, seconds=30)
    packet: dict[str, Any] = offer["history"][-1]["payload"]["packet"]
    accepted = await agent.command("accept", offer_id=offer["offer"]["id"])
    assert accepted["type"] == "ack"
    resolved = await agent.command("resolve", conversation_id=customer.conversation_id)
    assert resolved["type"] == "ack"
    return packet


async def test_a_complaint_goes_to_a_person_with_sentiment_and_priority(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    await bot_says(customer, chat, "This is unacceptable, my order arrived broken and nobody replies!", "sorry")

    packet = await take_and_resolve(agent, customer)
    assert packet["reason"] == "complaint"
    assert packet["intent"]["name"] == "complaint"
    assert packet["sentiment"]["label"] == "negative"
    assert packet["priority"] >= 2
    assert "complaints" in packet["skills"]
    await chat.close()


async def test_an_account_request_hands_off_with_the_order_number_collected(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    await bot_says(customer, chat, "hi")
    await bot_says(customer, chat, "Where is my order 483921? It should have come yesterday", "your account")

    packet = await take_and_resolve(agent, customer)
    assert packet["reason"] == "account_specific"
    assert {"entity": "order_number", "value": "483921"} in packet["entities"]
    assert packet["slots"] == {"order_number": "483921"}
    assert [seen["name"] for seen in packet["intents_seen"]] == ["greet", "account_request"]
    assert packet["articles"] and "orders" in packet["skills"]
    await chat.close()


async def test_rasa_keeps_no_email_or_phone_and_the_agent_gets_them_in_the_packet(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    await bot_says(customer, chat, "please change the email on my account to jo.bloggs@example.com", "your account")

    packet = await take_and_resolve(agent, customer)
    async with httpx.AsyncClient(base_url=stack.rasa_url, params=stack.rasa_query, timeout=30) as rasa:
        tracker = (await rasa.get(f"/conversations/{customer.conversation_id}/tracker")).text
    assert packet["reason"] == "account_specific"
    assert packet["slots"] == {"email": "jo.bloggs@example.com"}
    assert "jo.bloggs" not in tracker and "[email]" in tracker
    await chat.close()


async def test_fraud_is_urgent_and_asks_for_no_card_numbers(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    reply = await bot_says(customer, chat, "Someone used my card on your site without my permission")

    assert "don't share card numbers" in reply["text"]
    packet = await take_and_resolve(agent, customer)
    assert (packet["reason"], packet["priority"]) == ("sensitive", 3)
    assert "security" in packet["skills"]
    await chat.close()


async def test_the_bot_says_it_is_a_bot_and_declines_what_it_cannot_do(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    assert "virtual assistant" in (await bot_says(customer, chat, "am I talking to a robot?"))["text"]
    declined = await bot_says(customer, chat, "what's the weather in Rome tomorrow?")
    assert "outside what I can help with" in declined["text"]
    assert "anything else" in (await bot_says(customer, chat, "no thanks"))["text"]
    await bot_says(customer, chat, "tell me a joke", "outside what I can help with")
    await bot_says(customer, chat, "yes please", "connecting you")

    packet = await take_and_resolve(agent, customer)
    assert packet["reason"] == "customer_request"
    await chat.close()


async def test_unsure_it_asks_once_to_rephrase_then_hands_off(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    await bot_says(customer, chat, "the thing from before", "say that another way")
    # "No" to the request to rephrase is not "that answer did not help".
    await bot_says(customer, chat, "no", "anything else")
    await bot_says(customer, chat, "what about the other one", "bringing in a colleague")

    packet = await take_and_resolve(agent, customer)
    assert packet["reason"] == "low_confidence"
    await chat.close()


async def test_two_answers_that_did_not_help_bring_in_a_person(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)

    first = await bot_says(customer, chat, "How long does delivery take?")
    assert first["payload"]["answer"]["article"]["slug"] == "delivery-times"
    await bot_says(customer, chat, "no, that didn't help", "tell me a bit more")
    second = await bot_says(customer, chat, "How much does delivery cost?")
    assert second["payload"]["answer"]
    await bot_says(customer, chat, "that's not what I asked", "bringing in a colleague")

    packet = await take_and_resolve(agent, customer)
    assert packet["reason"] == "answers_did_not_help"
    manager = {"Authorization": f"Bearer {add_person(stack, 'knowledge_manager').token}"}
    stats = (await http.get("/api/kb/articles/delivery-times", headers=manager)).json()["stats"]
    assert stats["not_helpful"] >= 1
    await chat.close()


async def test_after_a_person_resolves_the_bot_resumes_and_asks_for_a_rating(
    stack: Stack, http: httpx.AsyncClient, agent: Socket
) -> None:
    customer, chat = await chat_with(stack, http)
    await bot_says(customer, chat, "How long does delivery take?")
    await bot_says(customer, chat, "I want to talk to a person", "connecting you")

    await take_and_resolve(agent, customer)

    question = await chat.next(is_message("bot", "How would you rate"), seconds=30)
    assert question["message"]["payload"]["quick_replies"] == ["1", "2", "3", "4", "5"]
    await bot_says(customer, chat, "5", "Thank you for your feedback")
    # The tracker was resumed, not reset: Rasa still has the conversation from before the handoff.
    tracker = (
        await http.get(f"{stack.rasa_url}/conversations/{customer.conversation_id}/tracker", params=stack.rasa_query)
    ).json()
    heard = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert heard[:2] == ["How long does delivery take?", "I want to talk to a person"] and heard[-1] == "5"
    supervisor = {"Authorization": f"Bearer {add_person(stack, 'supervisor').token}"}
    report = (await http.get("/api/reports/satisfaction", headers=supervisor)).json()
    assert report["distribution"]["5"] >= 1 and report["rated"] >= 1
    await chat.close()
