"""The knowledge managers' console in a real browser: write, publish, revise, compare, roll back,
and turn unanswered questions into an article."""

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.cli.background import Stack
from app.core.db import make_engine, session_factory, unit_of_work
from app.kb import articles
from knowledge import OnnxEmbedder
from tests.browser import signing
from tests.support.accounts import add_person
from tests.support.instances import instance, seed

pytestmark = pytest.mark.slow


def signed_in(browser: Browser, stack: Stack) -> Page:
    manager = add_person(stack, "knowledge_manager")
    page = signing.signed_in(browser, stack.http_url, "/kb", manager.email, manager.password)
    expect(page.get_by_test_id("kb-status")).to_have_text("Kim")
    return page


def best_answer(stack: Stack, question: str) -> dict[str, object] | None:
    found: dict[str, object] | None = httpx.post(f"{stack.http_url}/api/kb/search", json={"query": question}).json()[
        "answer"
    ]
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


def test_a_published_version_the_bot_leaves_out_is_shown_until_a_fixed_one_is_published(
    sqlite_url: str, tmp_path: Path, embedder: OnnxEmbedder, browser: Browser
) -> None:
    # An empty answer written straight into the table, as an older version of the code could have left it.
    seed(sqlite_url)
    engine = make_engine(sqlite_url)
    with unit_of_work(session_factory(engine)) as session:
        record = articles.head(session=session, slug="refund-time")
        stored = articles.version(session=session, slug="refund-time", number=record.published_version or 0)
        stored.answer = ""
        session.add(stored)
    engine.dispose()

    with instance(sqlite_url, tmp_path, embedder) as server:
        page = signing.signed_in(browser, server.http_url, "/kb", "kim@kestrel.example")
        banner = page.get_by_test_id("kb-refused")
        expect(banner).to_contain_text("refund-time (version")
        expect(banner).to_contain_text("answer")

        page.get_by_test_id("kb-search").fill("refund")
        page.get_by_test_id("kb-articles").locator("li").filter(has_text="refund-time ·").click()
        page.get_by_test_id("kb-answer").fill("Refunds reach your card within 5 working days.")
        page.get_by_test_id("kb-save").click()
        expect(page.get_by_test_id("kb-notice")).to_contain_text("Saved as version 2")
        page.get_by_test_id("kb-publish").click()
        expect(page.get_by_test_id("kb-article-state")).to_contain_text("version 2 is live")
        expect(banner).to_be_hidden()
        page.context.close()
