"""A knowledge base in a real browser: write rules with a typo and see it at its line, fix and
save them, import 100,000 facts, watch an inference run live, ask, and open proof trees."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LIVE_TIMEOUT_MS

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-results" / "knowledge.png"

# A family shaped like a tree: everyone but the root has one parent, every parent ten children.
PEOPLE, CHILDREN = 100_000, 10
TYPO_SOURCE = """% Everyone's ancestors.
ancestor(X, Y) :- parent(X, Y).
ancestor(X, Z) :- parent(X, Y) ancestor(Y, Z).
"""
SOURCE = TYPO_SOURCE.replace("parent(X, Y) ancestor", "parent(X, Y), ancestor")


def _name(person: int) -> str:
    return "tom" if person == 0 else f"p{person}"


def _parent(person: int) -> int:
    return (person - 1) // CHILDREN


def _family_csv(folder: Path) -> Path:
    """One `parent,child` line for each of PEOPLE children (the relation is named at import)."""
    path = folder / "parents.csv"
    lines = (f"{_name(_parent(child))},{_name(child)}\n" for child in range(1, PEOPLE + 1))
    path.write_text("".join(lines))
    return path


def _ancestor_count() -> int:
    """How many ancestor facts the family has: each person's depth below the root, summed."""
    depth = [0] * (PEOPLE + 1)
    for person in range(1, PEOPLE + 1):
        depth[person] = depth[_parent(person)] + 1
    return sum(depth)


def _create_rule_set(page: Page) -> None:
    page.get_by_role("link", name="Knowledge").click()
    page.wait_for_url("**/reasoning/")
    form = page.locator("#create-form")
    form.locator("input[name=name]").fill("Family tree")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/reasoning/\d+/$"))
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=10_000)


def _write_rules(page: Page) -> None:
    editor, check = page.locator("#source"), page.locator("#editor-check")
    editor.fill(TYPO_SOURCE)
    expect(check).to_contain_text("Line 3, column 32:")
    expect(page.locator("#editor-gutter .error-line")).to_have_text("3")
    editor.fill(SOURCE)
    expect(check).to_contain_text("✓ Valid: 2 rules")
    expect(page.locator("#editor-gutter .error-line")).to_have_count(0)
    page.locator("#save-button").click()
    expect(page.locator("#editor")).to_contain_text("Saved as version 2.")
    expect(page.locator("#versions")).to_contain_text("Version 2")


def _import_family(page: Page, folder: Path) -> None:
    importer = page.locator("#facts-import")
    importer.locator("input[name=file]").set_input_files(_family_csv(folder))
    importer.locator("input[name=relation]").fill("parent")
    importer.locator("button[type=submit]").click()
    expect(page.locator("#facts-import")).to_contain_text(
        "Added 100,000 of 100,000 facts (duplicates skipped).", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#facts-table")).to_contain_text("Page 1 of 2000 · 100,000 facts")


def _run_inference(page: Page) -> None:
    page.locator("#run-button").click()
    run = page.locator("#runs li.run").first
    job = run.locator("li.job")
    expect(job).to_have_attribute("data-status", "running", timeout=LIVE_TIMEOUT_MS)
    expect(job.locator("progress")).to_be_visible()
    expect(job).to_have_attribute("data-status", "succeeded", timeout=LIVE_TIMEOUT_MS)
    expect(run.locator('.bar-row[data-relation="ancestor"] .bar-count')).to_have_text(
        f"{_ancestor_count():,}", timeout=10_000)
    expect(run).to_contain_text("100,000 base facts")


def _ask(page: Page) -> None:
    page.locator("#query-form input[name=query]").fill('ancestor(X, "p12345")')
    page.locator("#query-form button[type=submit]").click()
    rows = page.locator("#query-result tbody tr")
    expect(rows).to_have_count(5, timeout=LIVE_TIMEOUT_MS)
    expect(page.locator("#query-result thead")).to_contain_text("X")
    expect(rows.locator("td:first-child")).to_have_text(["p1", "p12", "p123", "p1234", "tom"])


def _open_proof(page: Page) -> None:
    row = page.locator("#query-result tbody tr", has_text="tom")
    row.get_by_role("link", name="why?").click()
    dialog = page.locator("#proof-dialog")
    expect(dialog).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(dialog.locator(".proof-tree > li > details > summary .proof-fact")).to_have_text(
        'ancestor("tom", "p12345")')
    expect(dialog.locator(".proof-derived")).to_have_count(5)
    expect(dialog.locator(".proof-base .proof-fact")).to_have_text([
        'parent("tom", "p1")', 'parent("p1", "p12")', 'parent("p12", "p123")',
        'parent("p123", "p1234")', 'parent("p1234", "p12345")'])
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def _browse_derived_facts(page: Page) -> None:
    page.locator("#runs").get_by_role("link", name="Browse the derived facts").first.click()
    page.wait_for_url(re.compile(r"/reasoning/runs/\d+/$"))
    expect(page.locator("#derived-facts tbody tr")).to_have_count(50)
    page.locator("#derived-facts").get_by_role("link", name="why?").first.click()
    dialog = page.locator("#proof-dialog")
    expect(dialog).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(dialog.locator(".proof-base").first).to_be_visible()


def test_it_builds_a_family_knowledge_base_and_explains_an_answer(dashboard, owner, tmp_path):
    page = dashboard(owner)
    _create_rule_set(page)
    page.evaluate("window.e2eNotReloaded = true")

    _write_rules(page)
    _import_family(page, tmp_path)
    _run_inference(page)
    _ask(page)
    _open_proof(page)
    assert page.evaluate("window.e2eNotReloaded") is True

    _browse_derived_facts(page)
