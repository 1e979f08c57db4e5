"""An agent's browser drops off the network mid-conversation and comes back: it shows every message
the customer sent meanwhile, without a page reload. The agent's page goes through a relay the test
cuts (Chromium's offline emulation leaves open websockets alone)."""

import pytest
from playwright.sync_api import Browser, expect

from app.cli.background import Stack
from tests.browser.signing import MARIA, signed_in
from tests.browser.test_chat_and_console import chat
from tests.support.relay import Relay

pytestmark = pytest.mark.slow


def test_an_agent_whose_browser_went_offline_sees_what_was_said_meanwhile(stack: Stack, browser: Browser) -> None:
    relay = Relay(stack.port)
    agent_page = signed_in(browser, relay.http_url, "/agent", MARIA)
    agent_context = agent_page.context
    expect(agent_page.get_by_test_id("agent-status")).to_have_text("Maria · Online")

    customer_page = browser.new_context().new_page()
    customer_page.goto(f"{stack.http_url}/chat")
    expect(customer_page.get_by_test_id("connection")).to_have_text("Connected")
    chat(customer_page, "I want to talk to a human about my parcel")
    ours = agent_page.get_by_test_id("offers").locator("li", has_text="talk to a human about my parcel")
    ours.get_by_test_id("offer-accept").click()
    history = agent_page.get_by_test_id("history")
    expect(history).to_contain_text("talk to a human about my parcel")

    relay.cut()
    expect(agent_page.get_by_test_id("agent-status")).to_have_text("Reconnecting…", timeout=30_000)
    chat(customer_page, "First thing I said while you were away")
    chat(customer_page, "Second thing I said while you were away")
    expect(customer_page.get_by_test_id("messages")).to_contain_text("Second thing I said while you were away")
    relay.restore()

    expect(agent_page.get_by_test_id("agent-status")).to_have_text("Maria · Online", timeout=30_000)
    customer_lines = history.locator("li[data-author=customer]")
    expect(customer_lines.nth(-2)).to_contain_text("First thing I said while you were away")
    expect(customer_lines.last).to_contain_text("Second thing I said while you were away")
    agent_page.get_by_test_id("agent-resolve").click()
    agent_context.close()
    relay.close()
