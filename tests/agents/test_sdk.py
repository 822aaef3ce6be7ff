"""The Python SDK, used as its users use it: no database, provider from the environment."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agents.providers.base import ImagePart, ProviderError
from agents.runtime.events import FinalAnswer, RunError, TokenDelta, ToolCallFinished
from agents.sdk import Agent, StepLimitError, Tool
from tests.agents.llm_server import Reply, ScriptedLLM

ROOT = Path(__file__).resolve().parents[2]

SEED_PROGRAM = """\
from agents.sdk import Agent, Tool
class WeatherTool(Tool):
    name = "get_weather"
    description = "获取指定城市的天气信息"
    def execute(self, city: str) -> str:
        return f"{city} 当前天气:晴,温度 25°C"
agent = Agent(model="glm-4")
agent.register_tool(WeatherTool())
response = agent.run("北京现在的天气怎么样?")
print(response)
"""

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class WeatherTool(Tool):
    name = "get_weather"
    description = "获取指定城市的天气信息"

    def execute(self, city: str) -> str:
        return f"{city} 当前天气:晴,温度 25°C"


@pytest.fixture
def glm_env(llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "test-key")
    monkeypatch.setenv("ZHIPUAI_BASE_URL", llm_server.base_url)
    return llm_server


def weather_script(server: ScriptedLLM, *, answer: str = "北京现在晴,气温 25°C。") -> None:
    server.script(Reply(tool_calls=[("get_weather", {"city": "北京"})]), Reply(text=answer))


def test_it_runs_the_seed_program_verbatim(llm_server: ScriptedLLM) -> None:
    weather_script(llm_server)
    env = {**os.environ, "ZHIPUAI_API_KEY": "test-key", "ZHIPUAI_BASE_URL": llm_server.base_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    done = subprocess.run([sys.executable, "-c", SEED_PROGRAM], cwd=ROOT, env=env,
                          capture_output=True, timeout=60)

    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == "北京现在晴,气温 25°C。\n"
    first, second = llm_server.requests
    assert first["model"] == "glm-4"
    assert first["messages"] == [{"role": "user", "content": "北京现在的天气怎么样?"}]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert second["messages"][-1]["content"] == "北京 当前天气:晴,温度 25°C"
    assert second["messages"][-1]["tool_call_id"] == second["messages"][1]["tool_calls"][0]["id"]
    assert llm_server.headers[0]["authorization"] == "Bearer test-key"


def test_it_imports_no_django() -> None:
    probe = "import sys, agents.sdk, agents.runtime.builtin; print('django' in sys.modules)"

    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)

    assert done.stdout == "False\n", done.stderr


def test_it_keeps_the_last_run_and_remembers_the_conversation(glm_env: ScriptedLLM) -> None:
    weather_script(glm_env)
    glm_env.script(Reply(text="不客气。"))
    agent = Agent("glm-4", system_prompt="你是天气助手。", temperature=0)
    agent.register_tool(WeatherTool())

    assert agent.run("北京现在的天气怎么样?") == "北京现在晴,气温 25°C。"
    assert len(agent.last_run.trace) == 2  # type: ignore[union-attr]
    assert agent.run("谢谢") == "不客气。"

    third = glm_env.requests[2]
    assert [message["role"] for message in third["messages"]] == [
        "system", "user", "assistant", "tool", "assistant", "user",
    ]
    assert third["messages"][0] == {"role": "system", "content": "你是天气助手。"}
    assert third["temperature"] == 0.01  # GLM refuses 0; the provider clamps


def test_it_forgets_after_reset(glm_env: ScriptedLLM) -> None:
    glm_env.script(Reply(text="one"), Reply(text="two"))
    agent = Agent("glm-4")

    agent.run("first")
    agent.reset()
    agent.run("second")

    assert glm_env.requests[1]["messages"] == [{"role": "user", "content": "second"}]
    assert agent.last_run is not None and agent.last_run.answer == "two"


def test_it_streams_typed_events_from_sync_code(glm_env: ScriptedLLM) -> None:
    weather_script(glm_env, answer="晴天")
    agent = Agent("glm-4", tools=[WeatherTool()])

    events = list(agent.stream("北京天气?"))

    [finished] = [event for event in events if isinstance(event, ToolCallFinished)]
    assert finished.result == "北京 当前天气:晴,温度 25°C"
    assert "".join(event.text for event in events if isinstance(event, TokenDelta)) == "晴天"
    assert isinstance(events[-1], FinalAnswer)
    assert len(agent.history) == 4


def test_it_closes_a_stream_left_early_without_touching_history(glm_env: ScriptedLLM) -> None:
    glm_env.script(Reply(text="a long answer", chunk_chars=1))
    agent = Agent("glm-4")

    for event in agent.stream("hi"):
        assert isinstance(event, TokenDelta)
        break

    assert agent.history == [] and agent.last_run is None


def test_it_sends_images(glm_env: ScriptedLLM, tmp_path: Path) -> None:
    glm_env.script(Reply(text="a pixel"))
    picture = tmp_path / "pixel.png"
    picture.write_bytes(PNG)
    agent = Agent("glm-4v")

    raw = ImagePart(data=b"raw", mime_type="image/jpeg")
    agent.run("What is this?", images=[picture, PNG, raw])

    parts = glm_env.requests[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "What is this?"}
    assert [part["type"] for part in parts[1:]] == ["image_url"] * 3
    assert parts[3]["image_url"]["url"] == "cmF3"  # GLM: bare base64, no data: prefix


def test_it_returns_when_a_sync_tool_hangs_past_its_timeout(glm_env: ScriptedLLM) -> None:
    release = threading.Event()

    class Hanging(Tool):
        name = "hanging"
        description = "Hangs."

        def execute(self) -> str:
            release.wait(10)
            return "late"

    glm_env.script(Reply(tool_calls=[("hanging", {})]), Reply(text="it timed out"))
    agent = Agent("glm-4", tools=[Hanging()], tool_timeout=0.2)
    started = time.perf_counter()
    try:
        answer = agent.run("go")
    finally:
        release.set()

    assert answer == "it timed out"
    assert time.perf_counter() - started < 2


def test_it_refuses_unknown_image_bytes(glm_env: ScriptedLLM) -> None:
    with pytest.raises(ValueError, match="unrecognised image bytes"):
        Agent("glm-4v").run("What is this?", images=[b"not an image"])


def test_it_raises_provider_errors_and_keeps_history(glm_env: ScriptedLLM) -> None:
    glm_env.script(Reply(text="hello"), Reply(status=400, error_message="bad request body"))
    agent = Agent("glm-4")
    agent.run("hi")

    with pytest.raises(ProviderError, match="bad request body"):
        agent.run("again")

    assert len(agent.history) == 2


def test_it_raises_at_the_step_limit(glm_env: ScriptedLLM) -> None:
    glm_env.script(Reply(tool_calls=[("get_weather", {"city": "北京"})]))
    agent = Agent("glm-4", max_steps=1, tools=[WeatherTool()])

    with pytest.raises(StepLimitError):
        agent.run("天气?")

    assert agent.last_run is not None and len(agent.last_run.trace) == 1
    assert agent.history == []


def test_it_ends_a_failed_stream_with_a_run_error(glm_env: ScriptedLLM) -> None:
    glm_env.script(Reply(status=401, error_message="invalid api key"))

    events = list(Agent("glm-4").stream("hi"))

    assert events == [RunError(message="invalid api key", status=401)]


def test_it_names_the_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHIPUAI_API_KEY", raising=False)

    with pytest.raises(ProviderError, match="ZHIPUAI_API_KEY is not set"):
        Agent("glm-4")


def test_it_refuses_a_duplicate_or_foreign_tool(glm_env: ScriptedLLM) -> None:
    agent = Agent("glm-4", tools=[WeatherTool()])

    with pytest.raises(ValueError, match="already registered"):
        agent.register_tool(WeatherTool())
    with pytest.raises(TypeError, match="takes a Tool instance"):
        agent.register_tool(WeatherTool)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_it_tells_async_callers_to_use_arun(glm_env: ScriptedLLM) -> None:
    agent = Agent("glm-4")

    with pytest.raises(RuntimeError, match=r"use `await agent\.arun\(\.\.\.\)`"):
        agent.run("hi")
    with pytest.raises(RuntimeError, match=r"use `await agent\.astream\(\.\.\.\)`"):
        next(agent.stream("hi"))
    assert glm_env.requests == []


@pytest.mark.anyio
async def test_it_answers_with_arun(glm_env: ScriptedLLM) -> None:
    weather_script(glm_env)
    agent = Agent("glm-4", tools=[WeatherTool()])

    assert await agent.arun("北京现在的天气怎么样?") == "北京现在晴,气温 25°C。"
    assert agent.last_run is not None
    assert agent.last_run.trace[0].tool_calls[0].result == "北京 当前天气:晴,温度 25°C"


@pytest.mark.anyio
async def test_it_streams_with_astream(glm_env: ScriptedLLM) -> None:
    weather_script(glm_env, answer="晴")
    agent = Agent("glm-4", tools=[WeatherTool()])

    kinds = [type(event).__name__ async for event in agent.astream("北京天气?")]

    assert kinds == ["ToolCallStarted", "ToolCallFinished", "StepFinished", "TokenDelta",
                     "StepFinished", "FinalAnswer"]
    assert agent.last_run is not None and agent.last_run.answer == "晴"
