import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, driven by Playwright (never Playwright's own download).

    Module-scoped: Playwright's sync API keeps an event loop running while it is open, which the
    async tests elsewhere in the suite cannot share.
    """
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is missing: `scripts/setup.sh --test` installs Debian's package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()
