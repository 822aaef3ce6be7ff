"""Real-browser fixtures: daphne and a Celery worker on the test database, driven by Chromium.

The servers are separate processes, so tests that use them need committed data: every page
fixture here depends on `transactional_db`. Playwright's sync API runs an event loop in this
thread, which Django would otherwise take for async code touching the ORM.
"""

import os
from collections.abc import Callable, Iterator

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.oagweb.factories import PASSWORD  # noqa: E402
from tests.stack import celery_worker, daphne_server  # noqa: E402

# Debian's Chromium: Playwright's own browser download does not work on these machines.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

LIVE_TIMEOUT_MS = 30_000


# Module scope, all three: other modules start workers of their own on the same queue and
# must not find this one still consuming it, and Playwright's event loop, while it lives,
# stops async tests elsewhere from running theirs.
@pytest.fixture(scope="module")
def e2e_worker(django_db_setup) -> Iterator[None]:
    """A real Celery worker consuming this run's queue, against the test database."""
    with celery_worker():
        yield


@pytest.fixture(scope="module")
def base_url(django_db_setup, e2e_worker) -> Iterator[str]:
    """daphne serving the whole ASGI app (pages, static files, WebSockets)."""
    with daphne_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (`make chromium`) "
                    "or point the CHROMIUM environment variable at it", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(transactional_db, browser: Browser, base_url: str) -> Iterator[Callable[[], Page]]:
    """Opens pages, each in a fresh browser context (its own cookies).

    Uncaught JavaScript errors fail the test. The contexts close before the database is
    flushed, so daphne never serves a socket for a user who no longer exists.
    """
    contexts, errors = [], []

    def open_() -> Page:
        context = browser.new_context(base_url=base_url, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def log_in(page: Page, user) -> Page:
    """Logs `user` in through the login form and waits until the live feed is connected."""
    page.goto("/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=10_000)
    return page


@pytest.fixture
def dashboard(open_page) -> Callable[..., Page]:
    """`dashboard(user)`: a page logged in as `user`, on the dashboard, socket open."""
    return lambda user: log_in(open_page(), user)
