"""The dashboard in a real browser: jobs started by a click or by a service arrive live over
the WebSocket, cancel works from the feed, the language switches, teams stay apart."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from oagweb import jobs
from oagweb.events import publish_job_changed
from oagweb.models import JobStatus, Role
from oagweb.views import FEED_LIMIT
from tests.e2e.conftest import LIVE_TIMEOUT_MS
from tests.oagweb.factories import JobFactory, MembershipFactory

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-results" / "dashboard.png"


def _in_thread(work):
    """Database and publishing work in a thread of its own.

    Playwright's event loop runs in this thread, and services publish their events with
    `async_to_sync`, which refuses to run beside a running loop (it would log and drop them).
    """

    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def job_start(**kwargs):
    return _in_thread(lambda: jobs.job_start(**kwargs))


def feed_item(page: Page, job_id: int):
    return page.locator(f"#activity-feed li#job-{job_id}")


def start_ping(page: Page, seconds: float):
    """Clicks the ping button; returns the new feed item, once the socket delivered it."""
    page.locator("input[name=seconds]").fill(str(seconds))
    page.locator("#ping-button").click()
    expect(page.locator("#ping-status .ok")).to_contain_text("queued")
    job_id = int(page.locator("#ping-status .ok").inner_text().split("#")[1].split()[0])
    item = feed_item(page, job_id)
    expect(item).to_be_attached()
    return item


def test_it_shows_a_ping_from_the_dashboard_succeed_live(dashboard, owner):
    page = dashboard(owner)
    page.evaluate("window.e2eNotReloaded = true")
    succeeded = page.locator('#counts [data-count="succeeded"]')
    expect(succeeded).to_have_text("0")

    item = start_ping(page, 1)

    expect(item).to_have_attribute("data-status", "succeeded", timeout=LIVE_TIMEOUT_MS)
    expect(item.locator(".job-message")).to_contain_text("Pong from")
    expect(page.locator("#feed-empty")).to_have_count(0)
    expect(page.locator("#activity-feed li.job")).to_have_count(1)
    expect(succeeded).to_have_text("1", timeout=10_000)
    assert page.evaluate("window.e2eNotReloaded") is True
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_it_shows_a_job_started_by_a_teammate_live(dashboard, owner):
    page = dashboard(owner)
    teammate = MembershipFactory(team=owner.team, role=Role.MEMBER).user

    job = job_start(user=teammate, team=owner.team, kind="ping", params={"seconds": 1})

    expect(feed_item(page, job.pk)).to_have_attribute("data-status", "succeeded",
                                                       timeout=LIVE_TIMEOUT_MS)


def test_it_switches_the_interface_to_chinese_and_back(dashboard, owner):
    page = dashboard(owner)
    heading = page.locator("main hgroup p")
    expect(heading).to_have_text("Dashboard")

    page.locator("#language-switcher select[name=language]").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(heading).to_have_text("仪表盘")
    expect(page.locator("header nav")).to_contain_text("智能体")  # "Agents"

    page.locator("#language-switcher select[name=language]").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Dashboard")
    expect(page.locator("header nav")).to_contain_text("Agents")


def test_it_cancels_a_running_job_from_the_feed(dashboard, owner):
    page = dashboard(owner)
    item = start_ping(page, 30)
    expect(item).to_have_attribute("data-status", "running", timeout=LIVE_TIMEOUT_MS)

    item.get_by_role("button", name="Cancel").click()

    expect(item).to_have_attribute("data-status", "cancelled", timeout=15_000)
    expect(item.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(item.locator(".job-message")).to_have_text("Cancelled")


def test_it_never_shows_a_job_to_another_team(dashboard, owner, stranger):
    mine, theirs = dashboard(owner), dashboard(stranger)

    job = job_start(user=owner, team=owner.team, kind="ping", params={"seconds": 1})
    # The stranger's own job runs after it (one worker process), so once it has arrived
    # any leaked event of the first one would have arrived too.
    control = job_start(user=stranger, team=stranger.team, kind="ping", params={"seconds": 1})

    expect(feed_item(mine, job.pk)).to_have_attribute("data-status", "succeeded",
                                                       timeout=LIVE_TIMEOUT_MS)
    expect(feed_item(theirs, control.pk)).to_have_attribute("data-status", "succeeded",
                                                            timeout=LIVE_TIMEOUT_MS)
    expect(feed_item(theirs, job.pk)).to_have_count(0)
    expect(theirs.locator("#activity-feed li.job")).to_have_count(1)
    expect(feed_item(mine, control.pk)).to_have_count(0)


def test_it_catches_up_on_a_job_whose_created_event_it_missed(dashboard, owner):
    page = dashboard(owner)
    # A job whose "created" event never reached this page: only a later update arrives.
    job = _in_thread(lambda: JobFactory(team=owner.team, status=JobStatus.RUNNING))
    _in_thread(lambda: publish_job_changed(job))

    expect(feed_item(page, job.pk)).to_have_attribute("data-status", "running",
                                                       timeout=LIVE_TIMEOUT_MS)


def test_it_keeps_the_live_feed_to_its_limit(dashboard, owner):
    page = dashboard(owner)
    created = _in_thread(lambda: [JobFactory(team=owner.team) for _ in range(FEED_LIMIT + 3)])
    for job in created:
        _in_thread(lambda job=job: publish_job_changed(job, created=True))

    expect(feed_item(page, created[-1].pk)).to_be_attached(timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#activity-feed li.job")).to_have_count(FEED_LIMIT)
    expect(feed_item(page, created[0].pk)).to_have_count(0)
