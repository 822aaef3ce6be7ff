"""A new user's way to an agent in a real browser: connect a provider, add two tools, create
the agent, chat with tokens streaming and a tool card appearing, reload, stop a generation."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.agents.llm_server import Reply, ScriptedLLM
from tests.e2e.conftest import LIVE_TIMEOUT_MS

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"

# Counts how often the streaming answer's text changed: token by token means many times.
WATCH_TOKENS = """() => {
  window.tokenUpdates = 0;
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.target.closest && change.target.closest('.msg-assistant')) window.tokenUpdates++;
      else if (change.target.parentElement?.closest('.msg-assistant')) window.tokenUpdates++;
    }
  }).observe(document.getElementById('chat-messages'),
             {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture
def llm():
    with ScriptedLLM() as server:
        yield server


def _set_up_agent(page: Page, llm: ScriptedLLM) -> None:
    page.goto("/agents/providers/")
    form = page.locator("#provider-form")
    form.locator("input[name=name]").fill("Local GLM")
    form.locator("select[name=profile]").select_option("glm")
    form.locator("input[name=base_url]").fill(llm.base_url)
    form.locator("input[name=model_names]").fill("glm-4, glm-4v")
    form.locator("input[name=api_key]").fill("sk-e2e-secret-key-1234")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Local GLM created")
    expect(page.get_by_text("…1234")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("sk-e2e-secret-key")

    page.goto("/agents/tools/")
    for target in ("calculator", "current_time"):
        tool_form = page.locator("#python-tool-form")
        tool_form.locator("select[name=target]").select_option(target)
        tool_form.locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text(f"Tool {target} added")

    page.goto("/agents/")
    form = page.locator("#agent-form")
    form.locator("input[name=name]").fill("Maths helper")
    form.locator("input[name=model_name]").fill("glm-4")
    for tool in ("calculator", "current_time"):
        form.get_by_label(tool).check()
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Agent Maths helper created")


def _open_new_chat(page: Page) -> None:
    page.get_by_role("button", name="Chat").first.click()
    page.locator("#new-conversation").click()
    page.wait_for_url("**/agents/conversations/*/")
    expect(page.locator("body")).to_have_attribute("data-live", "open", timeout=10_000)


def test_it_builds_an_agent_and_chats_with_it_live(dashboard, owner, llm):
    page = dashboard(owner)
    _set_up_agent(page, llm)
    _open_new_chat(page)
    llm.script(Reply(tool_calls=[("calculator", {"expression": "6*7"})]),
               Reply(text="The product is **42**, computed with the calculator tool.",
                     chunk_chars=2, chunk_delay=0.03))
    page.evaluate(WATCH_TOKENS)

    page.locator("#chat-input").fill("What is 6*7?")
    page.locator("#chat-send").click()

    card = page.locator(".tool-card").first
    expect(card).to_contain_text("calculator", timeout=LIVE_TIMEOUT_MS)
    expect(card).to_have_attribute("data-finished", "true", timeout=LIVE_TIMEOUT_MS)
    expect(card.locator(".tool-result")).to_have_text("42")
    answer = page.locator(".msg-assistant .msg-body").last
    expect(answer.locator("strong")).to_have_text("42", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.tokenUpdates") >= 10  # it streamed, not arrived at once
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "chat.png", full_page=True)

    page.reload()
    expect(page.locator(".msg-user")).to_contain_text("What is 6*7?")
    expect(page.locator(".tool-card .tool-result")).to_have_text("42")
    expect(page.locator(".msg-assistant strong")).to_have_text("42")


def test_it_stops_a_generation(dashboard, owner, llm):
    page = dashboard(owner)
    _set_up_agent(page, llm)
    _open_new_chat(page)
    llm.script(Reply(text="word " * 400, chunk_chars=5, chunk_delay=0.05))

    page.locator("#chat-input").fill("Talk for a long time")
    page.locator("#chat-input").press("Enter")
    reply = page.locator(".msg-assistant").last
    expect(reply.locator(".msg-body")).to_contain_text("word word word", timeout=LIVE_TIMEOUT_MS)
    page.locator("#chat-stop").click()

    expect(reply).to_have_class("msg msg-assistant msg-stopped", timeout=5_000)
    expect(page.locator("#chat-send")).to_be_visible()
    stopped_at = len(reply.inner_text())
    page.wait_for_timeout(500)
    assert len(reply.inner_text()) == stopped_at < len("word " * 400)  # nothing more came
    page.reload()
    expect(page.locator(".msg-assistant").last).to_contain_text("word word")
