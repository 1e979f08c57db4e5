"""The supervisor's view in a real browser: a canned response written there is one Tab away in Maria's
console, a chat taken by Maria shows in her load, and the supervisor moves it to a team; Maria's
console stops offering her the reply box."""

import pytest
from playwright.sync_api import Browser, expect

from app.cli.background import Stack
from tests.browser.signing import MARIA, signed_in
from tests.browser.test_chat_and_console import chat

pytestmark = pytest.mark.slow


def test_a_supervisor_sees_the_load_and_moves_a_chat_to_a_team(stack: Stack, browser: Browser) -> None:
    supervisor = signed_in(browser, stack.http_url, "/supervisor", "sam@kestrel.example")
    expect(supervisor.get_by_test_id("team").locator("tr[data-name=Maria]")).to_contain_text("offline")

    supervisor.get_by_test_id("canned-shortcut").fill("Tent")
    supervisor.get_by_test_id("canned-title").fill("Tent care")
    supervisor.get_by_test_id("canned-text").fill("Dry the tent fully before you pack it away.")
    supervisor.get_by_test_id("canned-save").click()
    expect(supervisor.get_by_test_id("canned")).to_contain_text("/tent · Tent care")

    agent = signed_in(browser, stack.http_url, "/agent", MARIA)
    expect(agent.get_by_test_id("agent-status")).to_have_text("Maria · Online")
    customer = browser.new_context().new_page()
    customer.goto(f"{stack.http_url}/chat")
    expect(customer.get_by_test_id("connection")).to_have_text("Connected")
    chat(customer, "I want to talk to a human about my tent")
    offer = agent.get_by_test_id("offers").locator("li", has_text="talk to a human about my tent")
    offer.get_by_test_id("offer-accept").click()
    expect(agent.get_by_test_id("history")).to_contain_text("talk to a human about my tent")
    agent.get_by_test_id("agent-reply").fill("/tent")
    agent.get_by_test_id("agent-reply").press("Tab")
    expect(agent.get_by_test_id("agent-reply")).to_have_value("Dry the tent fully before you pack it away.")

    maria = supervisor.get_by_test_id("team").locator("tr[data-name=Maria]")
    expect(maria).to_contain_text("online")
    expect(maria).to_contain_text("webchat 1/3")
    supervisor.get_by_test_id("reassign-target").fill("overflow")
    supervisor.get_by_test_id("reassign-note").fill("Maria is going home")
    supervisor.get_by_test_id("reassign-send").click()

    expect(supervisor.get_by_test_id("supervisor-notice")).to_have_text("Offered to overflow.")
    expect(agent.get_by_test_id("history")).to_contain_text("Transferred to team overflow: Reassigned by Sam")
    expect(agent.get_by_test_id("agent-reply")).to_be_disabled()
    expect(maria).to_contain_text("webchat 0/3")
