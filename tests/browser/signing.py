"""Signing in to a console as a person does: the console sends them to /login and back."""

from playwright.sync_api import Browser, Page, expect

from app.core.settings import DEMO_PASSWORD

MARIA = "maria@kestrel.example"


def signed_in(browser: Browser, base_url: str, console: str, email: str, password: str = DEMO_PASSWORD) -> Page:
    """A page of its own browser context, signed in and on `console` (a path such as /agent)."""
    page = browser.new_context().new_page()
    page.goto(f"{base_url}{console}")
    expect(page).to_have_url(f"{base_url}/login?next={console.replace('/', '%2F')}")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{base_url}{console}")
    return page
