"""Two agents and a supervisor in separate browsers, and a customer on the chat page: Maria takes the
chat and transfers it to Omar with a note; Omar sees everything that was said, answers, and hands the
chat back to the bot; the supervisor sees the load move."""

import pytest
from playwright.sync_api import Browser, expect

from app.cli.background import Stack
from tests.browser.signing import MARIA, signed_in
from tests.browser.test_chat_and_console import chat
from tests.support.accounts import add_person

pytestmark = pytest.mark.slow


def test_a_chat_moves_from_one_agent_to_another_and_back_to_the_bot(stack: Stack, browser: Browser) -> None:
    omar_account = add_person(stack, "agent", name="Omar", capacity="webchat=2")
    supervisor = signed_in(browser, stack.http_url, "/supervisor", "sam@kestrel.example")
    maria = signed_in(browser, stack.http_url, "/agent", MARIA)
    expect(maria.get_by_test_id("agent-status")).to_have_text("Maria · Online")

    customer = browser.new_context().new_page()
    customer.goto(f"{stack.http_url}/chat")
    expect(customer.get_by_test_id("connection")).to_have_text("Connected")
    messages = customer.get_by_test_id("messages")
    chat(customer, "I want to talk to a human about my sleeping bag")
    maria.get_by_test_id("offers").locator("li", has_text="talk to a human about my sleeping bag").get_by_test_id(
        "offer-accept"
    ).click()
    maria.get_by_test_id("agent-reply").fill("Hi, Maria here. Let me find our zip expert.")
    maria.get_by_test_id("agent-reply").press("Enter")
    expect(messages.locator("li[data-author=agent]").last).to_contain_text("Let me find our zip expert")

    omar = signed_in(browser, stack.http_url, "/agent", omar_account.email, omar_account.password)
    expect(omar.get_by_test_id("agent-status")).to_have_text("Omar · Online")
    maria.get_by_test_id("transfer-to").fill(str(omar_account.id))
    maria.get_by_test_id("transfer-note").fill("Zip stuck on a new bag; she wants a repair")
    maria.get_by_test_id("transfer-send").click()

    offer = omar.get_by_test_id("offers").locator("li", has_text="talk to a human about my sleeping bag")
    offer.get_by_test_id("offer-accept").click()
    history = omar.get_by_test_id("history")
    expect(history).to_contain_text("I want to talk to a human about my sleeping bag")
    expect(history).to_contain_text("Let me find our zip expert")
    expect(history).to_contain_text("Zip stuck on a new bag; she wants a repair")
    expect(messages).to_contain_text("Omar joined the conversation")
    expect(supervisor.get_by_test_id("team").locator("tr[data-name=Omar]")).to_contain_text("webchat 1/2")

    omar.get_by_test_id("agent-reply").fill("Omar here: a repair is free, I'll send a label.")
    omar.get_by_test_id("agent-reply").press("Enter")
    expect(messages.locator("li[data-author=agent]").last).to_contain_text("a repair is free")
    omar.get_by_test_id("agent-hand-back").click()
    expect(messages).to_contain_text("You're back with the assistant")
    expect(omar.get_by_test_id("agent-reply")).to_be_disabled()
    expect(supervisor.get_by_test_id("team").locator("tr[data-name=Omar]")).to_contain_text("webchat 0/2")
