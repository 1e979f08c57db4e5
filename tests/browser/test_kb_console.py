"""The knowledge managers' console in a real browser: write, publish, revise, compare, roll back,
and turn unanswered questions into an article."""

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.cli.background import Stack
from tests.browser import signing
from tests.support.accounts import add_person

pytestmark = pytest.mark.slow


def signed_in(browser: Browser, stack: Stack) -> Page:
    manager = add_person(stack, "knowledge_manager")
    page = signing.signed_in(browser, stack.http_url, "/kb", manager.email, manager.password)
    expect(page.get_by_test_id("kb-status")).to_have_text("Kim")
    return page


def best_answer(stack: Stack, question: str) -> dict[str, object] | None:
    found: dict[str, object] | None = httpx.post(
        f"{stack.http_url}/api/knowledge/search", json={"query": question}
    ).json()["answer"]
    return found


def test_a_knowledge_manager_writes_publishes_revises_and_rolls_back(stack: Stack, browser: Browser) -> None:
    page = signed_in(browser, stack)
    articles = page.get_by_test_id("kb-articles")
    expect(articles.locator("li")).to_have_count(37)
    page.get_by_test_id("kb-search").fill("gift card")
    expect(articles.locator("li")).to_have_count(1)
    expect(articles).to_contain_text("How do gift cards work?")

    page.get_by_test_id("kb-new").click()
    page.get_by_test_id("kb-slug").fill("kayak-transport")
    page.get_by_test_id("kb-title").fill("Can you deliver a kayak?")
    page.get_by_test_id("kb-questions").fill("Do you ship kayaks?\nhow do I get a canoe delivered")
    page.get_by_test_id("kb-answer").fill("**Yes.** Kayaks ship by freight within 5 working days.")
    expect(page.get_by_test_id("kb-answer-preview").locator("strong")).to_have_text("Yes.")
    page.get_by_test_id("kb-save").click()
    expect(page.get_by_test_id("kb-article-state")).to_contain_text("draft · version 1 · nothing live")
    before = best_answer(stack, "can you send me a kayak by freight")
    assert before is None or before["slug"] != "kayak-transport", "a draft answers nobody"

    page.get_by_test_id("kb-publish").click()
    expect(page.get_by_test_id("kb-notice")).to_contain_text("Published")
    live = best_answer(stack, "can you send me a kayak by freight")
    assert live is not None and live["slug"] == "kayak-transport"

    page.get_by_test_id("kb-answer").fill("Kayaks ship by freight within 10 working days.")
    page.get_by_test_id("kb-save").click()
    expect(page.get_by_test_id("kb-notice")).to_contain_text("Saved as version 2. Publish it to make it live.")
    page.get_by_test_id("kb-diff-2").click()
    expect(page.get_by_test_id("kb-diff")).to_contain_text("+Kayaks ship by freight within 10 working days.")

    page.get_by_test_id("kb-publish").click()
    expect(page.get_by_test_id("kb-article-state")).to_contain_text("version 2 is live")
    page.get_by_test_id("kb-rollback-1").click()
    expect(page.get_by_test_id("kb-article-state")).to_contain_text("version 3 is live")
    rolled_back = best_answer(stack, "can you send me a kayak by freight")
    assert rolled_back is not None and rolled_back["answer"] == "**Yes.** Kayaks ship by freight within 5 working days."


def test_unanswered_questions_become_a_draft_in_one_action(stack: Stack, browser: Browser) -> None:
    chat = browser.new_context().new_page()
    chat.goto(f"{stack.http_url}/chat")
    expect(chat.get_by_test_id("connection")).to_have_text("Connected")
    chat.get_by_test_id("chat-input").fill("Do you sell inflatable stand-up paddle boards?")
    chat.get_by_test_id("chat-input").press("Enter")
    expect(chat.get_by_test_id("messages")).to_contain_text("bringing in a colleague")

    page = signed_in(browser, stack)
    page.get_by_test_id("tab-unanswered").click()
    groups = page.get_by_test_id("kb-groups")
    expect(groups).to_contain_text("Do you sell inflatable stand-up paddle boards?")
    page.once("dialog", lambda dialog: dialog.accept("paddle-boards"))
    groups.locator("li", has_text="paddle boards").get_by_test_id("kb-group-draft").click()

    expect(page.get_by_test_id("kb-questions")).to_have_value("Do you sell inflatable stand-up paddle boards?")
    expect(page.get_by_test_id("kb-article-state")).to_contain_text("draft · version 1")
    page.get_by_test_id("kb-publish").click()
    expect(page.get_by_test_id("kb-error")).to_contain_text("answer is empty")
