"""The real Rasa server hangs, comes back, is killed and restarted, and so is the action server: no
customer message is lost or left unanswered, a hung Rasa is not asked again until it is healthy, and
its conversations survive.
"""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from app.cli.background import Stack, running_stack
from knowledge.demo import load_demo_articles
from tests.support.clients import Customer, is_message, new_customer

pytestmark = pytest.mark.slow

ANSWERS = {article.slug: article.answer for article in load_demo_articles()}


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own, since this test stops its Rasa; short timeouts keep the test quick."""
    settings = {
        "CAREBRIDGE_RASA_TIMEOUT_SECONDS": "3",
        "CAREBRIDGE_RASA_FAILURES_TO_OPEN": "2",
        "CAREBRIDGE_RASA_PROBE_SECONDS": "0.5",
    }
    with running_stack(tmp_path_factory.mktemp("outage"), settings) as running:
        yield running


@pytest.fixture
async def http(own_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_stack.http_url, timeout=30) as client:
        yield client


async def assistant(http: httpx.AsyncClient) -> dict[str, Any]:
    state: dict[str, Any] = (await http.get("/healthz")).json()["assistant"]
    return state


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Wait until `check` holds (a restart or a probe takes a while); give up after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s")
        await asyncio.sleep(0.25)


async def until_circuit(http: httpx.AsyncClient, state: str, seconds: float) -> None:
    async def reached() -> bool:
        return bool((await assistant(http))["circuit"] == state)

    await eventually(reached, seconds, f"the assistant's circuit becoming {state}")


async def ask(stack: Stack, http: httpx.AsyncClient, text: str, answer_contains: str = "") -> tuple[Customer, str]:
    """A new customer says `text`; returns them and the bot's first reply."""
    customer = await new_customer(http)
    chat = await customer.follow(stack.ws_url)
    await customer.say(text)
    reply = await chat.next(is_message("bot", answer_contains), seconds=30)
    await chat.close()
    return customer, str(reply["message"]["text"])


async def rasa_heard(stack: Stack, http: httpx.AsyncClient, customer: Customer) -> list[str]:
    tracker = (
        await http.get(f"{stack.rasa_url}/conversations/{customer.conversation_id}/tracker", params=stack.rasa_query)
    ).json()
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


async def test_customers_are_answered_through_a_hang_and_a_crash_of_rasa(
    own_stack: Stack, http: httpx.AsyncClient
) -> None:
    regular, greeting = await ask(own_stack, http, "hello")
    assert "Kestrel's assistant" in greeting
    rasa = own_stack.child_pids()["rasa"]

    os.kill(rasa, signal.SIGSTOP)
    try:
        # Hung: each message waits out the 3 s timeout, then a sure match is answered from the
        # knowledge base and anything else goes to a person. Two failures open the circuit.
        _, answer = await ask(own_stack, http, "How long does delivery take?")
        assert answer == ANSWERS["delivery-times"]
        _, apology = await ask(own_stack, http, "My parcel arrived broken and I am furious")
        assert "bringing in a colleague" in apology
        assert (await assistant(http))["circuit"] == "open"
        unasked, apology = await ask(own_stack, http, "Is anyone reading this while the bot sleeps?")
        assert "bringing in a colleague" in apology
    finally:
        os.kill(rasa, signal.SIGCONT)

    # Back: the probe finds Rasa healthy, and new conversations go to the bot again.
    await until_circuit(http, "closed", seconds=30)
    _, greeting = await ask(own_stack, http, "hi there")
    assert "Kestrel's assistant" in greeting
    assert "Is anyone reading this while the bot sleeps?" not in await rasa_heard(own_stack, http, unasked)

    os.kill(rasa, signal.SIGKILL)
    # Killed: refused at once, so the customer is answered without waiting, while `carebridge up`
    # starts Rasa again.
    _, answer = await ask(own_stack, http, "How do I reset my password?")
    assert answer == ANSWERS["reset-password"]
    await eventually(lambda: ready(own_stack, http), 180, "Rasa's restart")
    assert own_stack.child_pids()["rasa"] != rasa
    _, greeting = await ask(own_stack, http, "good morning")
    assert "Kestrel's assistant" in greeting
    assert (await assistant(http))["failures_in_a_row"] == 0

    # The action server killed: Rasa still answers, but its action fails and it says nothing, which
    # counts as a failure too; `carebridge up` restarts the action server.
    actions = own_stack.child_pids()["rasa-actions"]
    os.kill(actions, signal.SIGKILL)
    customer, answer = await ask(own_stack, http, "How long does delivery take?")
    assert answer == ANSWERS["delivery-times"]
    reply = next(m for m in await customer.history() if m["author"] == "bot")
    assert reply["payload"]["answer"]["source"] == "knowledge_base"
    assert (await assistant(http))["failures_in_a_row"] == 1

    async def actions_back() -> bool:
        restarted = own_stack.child_pids().get("rasa-actions") not in (None, actions)
        return restarted and await actions_ready(own_stack, http)

    await eventually(actions_back, 120, "the action server's restart")

    # The conversation from before the crash goes on where it was: Rasa's tracker store kept it.
    assert "hello" in await rasa_heard(own_stack, http, regular)
    chat = await regular.follow(own_stack.ws_url, after_seq=2)
    await regular.say("thank you!")
    thanks = await chat.next(is_message("bot"), seconds=30)
    assert "welcome" in thanks["message"]["text"].lower()
    await chat.close()


async def ready(stack: Stack, http: httpx.AsyncClient) -> bool:
    try:
        status = await http.get(f"{stack.rasa_url}/status", params=stack.rasa_query, timeout=2)
    except httpx.HTTPError:
        return False
    return status.status_code == 200 and bool(status.json().get("model_file"))


async def actions_ready(stack: Stack, http: httpx.AsyncClient) -> bool:
    try:
        health = await http.get(f"http://127.0.0.1:{stack.action_port}/health", timeout=2)
    except httpx.HTTPError:
        return False
    return health.status_code == 200
