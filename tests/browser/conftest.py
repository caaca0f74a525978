"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's live_server.

Playwright's sync API runs an event loop in the test's thread, so Django's async-unsafe check
would refuse the ORM calls the tests make between page actions; it is switched off for the
browser tests (the ORM is still used from one thread at a time).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django's per-context connection storage hands the test
            # its own connection; close it here, or PostgreSQL cannot drop the test database.
            connections.close_all()


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/browser/ (gitignored): screenshots and downloaded files of the last run."""
    path = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


class PageWatch:
    """Collects what went wrong on a page that a screenshot does not show: script errors,
    failed requests and horizontal overflow."""

    def __init__(self, artifacts: Path):
        self.artifacts = artifacts
        self.errors: list[str] = []
        self.overflow: dict[str, int] = {}

    def attach(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: script error {exc}"))
        page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 and "/track/" not in r.url else None
            ),
        )

    def shot(self, page, name: str) -> Path:
        """A full-page screenshot named after the page and the viewport width; records overflow."""
        width = page.viewport_size["width"]
        path = self.artifacts / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        extra = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if extra > 0:
            self.overflow[f"{name}-{width}"] = extra
        return path


@pytest.fixture
def watch(artifacts) -> PageWatch:
    return PageWatch(artifacts)
