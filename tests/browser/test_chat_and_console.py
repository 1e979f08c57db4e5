"""The two pages, clicked through in a real browser: a customer on /chat and an agent on /agent."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from app.cli.background import Stack
from knowledge.demo import load_demo_articles
from tests.browser.signing import MARIA, signed_in

pytestmark = pytest.mark.slow

PAYMENT_ANSWER = next(a.answer for a in load_demo_articles() if a.slug == "payment-methods")


def chat(page: Page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")


def test_customer_and_agent_pages_carry_a_conversation_from_bot_to_person(stack: Stack, browser: Browser) -> None:
    agent_page = signed_in(browser, stack.http_url, "/agent", MARIA)
    expect(agent_page.get_by_test_id("agent-status")).to_have_text("Maria · Online")

    customer_page = browser.new_context().new_page()
    customer_page.goto(f"{stack.http_url}/chat")
    expect(customer_page.get_by_test_id("connection")).to_have_text("Connected")
    messages = customer_page.get_by_test_id("messages")

    chat(customer_page, "Can I pay with PayPal?")
    expect(messages.locator("li[data-author=bot]").last).to_contain_text(PAYMENT_ANSWER)

    chat(customer_page, "I'd like to speak with a representative")
    expect(messages.locator("li[data-author=bot]").last).to_contain_text("connecting you with a colleague")

    offers = agent_page.get_by_test_id("offers")
    ours = offers.locator("li", has_text="I'd like to speak with a representative")
    expect(ours).to_have_count(1)
    expect(agent_page).to_have_title(re.compile(r"^\(\d+\) Carebridge · Agent console$"))
    ours.get_by_test_id("offer-accept").click()

    history = agent_page.get_by_test_id("history")
    expect(history).to_contain_text("Can I pay with PayPal?")
    expect(history).to_contain_text(PAYMENT_ANSWER)
    expect(history.locator("li[data-author=bot] .source").first).to_contain_text("Which payment methods")
    expect(agent_page.get_by_test_id("handoff-packet")).to_contain_text("customer request")

    # The three best answers to the customer's last message are one click from the reply box.
    suggestions = agent_page.get_by_test_id("suggestions").locator("li")
    expect(suggestions).to_have_count(3)
    suggestions.first.get_by_test_id("suggestion-use").click()
    expect(agent_page.get_by_test_id("agent-reply")).not_to_have_value("")
    expect(agent_page.get_by_test_id("customer-profile")).to_contain_text("webchat")
    expect(agent_page.get_by_test_id("customer-profile")).to_contain_text("No earlier conversations.")

    agent_page.get_by_test_id("agent-reply").fill("Hi, this is Maria. How can I help?")
    expect(customer_page.get_by_test_id("typing")).to_have_text("Maria is typing…")
    agent_page.get_by_test_id("agent-reply").press("Enter")
    expect(messages.locator("li[data-author=agent]")).to_have_text("MariaHi, this is Maria. How can I help?")

    customer_page.get_by_test_id("chat-input").fill("Thanks Maria!")
    expect(agent_page.get_by_test_id("customer-typing")).to_have_text("Customer is typing…")
    customer_page.get_by_test_id("chat-input").press("Enter")
    expect(history.locator("li[data-author=customer]").last).to_contain_text("Thanks Maria!")

    agent_page.get_by_test_id("agent-as-note").check()
    agent_page.get_by_test_id("agent-reply").fill("Regular customer, be generous")
    agent_page.get_by_test_id("agent-reply").press("Enter")
    expect(history.locator("li[data-kind=note]")).to_contain_text("Regular customer, be generous")
    agent_page.get_by_test_id("agent-as-note").uncheck()

    agent_page.get_by_test_id("agent-resolve").click()
    expect(messages).to_contain_text("Conversation resolved")
    expect(agent_page.get_by_test_id("agent-reply")).to_be_disabled()
    expect(messages).not_to_contain_text("Regular customer")
