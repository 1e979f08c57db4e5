"""Accounts in a real browser: a wrong password is refused with a reason, an admin adds an agent with
skills and channels, and the new agent signs in to the console; an admin gives someone a new token."""

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from app.cli.background import Stack
from tests.browser.signing import signed_in
from tests.support.accounts import add_person

pytestmark = pytest.mark.slow


def test_a_wrong_password_is_refused_with_a_reason(stack: Stack, browser: Browser) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{stack.http_url}/login?next=/agent")
    page.get_by_test_id("login-email").fill("maria@kestrel.example")
    page.get_by_test_id("login-password").fill("not her password")
    page.get_by_test_id("login-submit").click()

    expect(page.get_by_test_id("login-error")).to_have_text("wrong email or password")
    expect(page).to_have_url(f"{stack.http_url}/login?next=/agent")


def test_an_admin_adds_an_agent_who_then_takes_chats(stack: Stack, browser: Browser) -> None:
    admin = signed_in(browser, stack.http_url, "/admin", "ada@kestrel.example")
    admin.get_by_test_id("person-name").fill("Noor")
    admin.get_by_test_id("person-email").fill("noor@kestrel.example")
    admin.get_by_test_id("person-password").fill("Noor's long password")
    admin.get_by_test_id("person-skills").fill("billing=7, orders=4")
    admin.get_by_test_id("person-languages").fill("en, ar")
    admin.get_by_test_id("person-capacity").fill("webchat=2, messenger=1")
    admin.get_by_test_id("person-save").click()

    expect(admin.get_by_test_id("admin-notice")).to_contain_text("Added Noor. Their API token, shown once:")
    row = admin.get_by_test_id("people").locator("tr[data-email='noor@kestrel.example']")
    expect(row).to_contain_text("billing=7, orders=4")
    expect(row).to_contain_text("webchat=2, messenger=1")

    admin.get_by_role("button", name="Edit Noor").click()
    admin.get_by_test_id("person-capacity").fill("pigeon=1")
    admin.get_by_test_id("person-save").click()
    expect(admin.get_by_test_id("admin-error")).to_contain_text("unknown channels ['pigeon']")

    noor = signed_in(browser, stack.http_url, "/agent", "noor@kestrel.example", "Noor's long password")
    expect(noor.get_by_test_id("agent-status")).to_have_text("Noor · Online")
    noor.get_by_test_id("sign-out").click()
    expect(noor).to_have_url(f"{stack.http_url}/login")


def test_an_admin_gives_someone_a_new_token_shown_once_and_the_old_one_stops_working(
    stack: Stack, browser: Browser
) -> None:
    person = add_person(stack, "agent", name="Lena")
    admin = signed_in(browser, stack.http_url, "/admin", "ada@kestrel.example")
    admin.once("dialog", lambda dialog: dialog.accept())
    row = admin.get_by_test_id("people").locator(f"tr[data-email='{person.email}']")
    row.get_by_role("button", name="New token for Lena").click()

    notice = admin.get_by_test_id("admin-notice")
    expect(notice).to_contain_text("New API token for Lena, shown once:")
    shown = re.search(r"shown once: (\S+)", notice.inner_text())
    assert shown is not None
    with httpx.Client(base_url=stack.http_url, timeout=10) as api:
        old = api.get("/api/canned", headers={"Authorization": f"Bearer {person.token}"})
        new = api.get("/api/canned", headers={"Authorization": f"Bearer {shown[1]}"})
    assert old.status_code == 401 and new.status_code == 200
