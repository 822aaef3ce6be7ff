"""The function-calling loop, driven over real HTTP/SSE against the scripted LLM server."""

import asyncio
import enum
import threading
import time
from typing import Any, TypeVar

import pytest

from agents.providers import provider_for
from agents.providers.base import Message, ProviderError, Usage
from agents.runtime.builtin import CalculatorTool
from agents.runtime.events import (
    FinalAnswer,
    RunError,
    RunEvent,
    StepFinished,
    TokenDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from agents.runtime.loop import StepLimitError, run, run_events
from agents.runtime.tools import Tool, ToolError
from tests.agents.llm_server import Reply, ScriptedLLM

pytestmark = pytest.mark.anyio

EventT = TypeVar("EventT")
MODEL = "glm-4"


class WeatherTool(Tool):
    name = "get_weather"
    description = "获取指定城市的天气信息"

    def execute(self, city: str) -> str:
        return f"{city} 当前天气:晴,温度 25°C"


class FailingTool(Tool):
    name = "lookup"
    description = "Look a key up."

    def execute(self, key: str) -> str:
        raise RuntimeError(f"database down while reading {key}")


class ReportTool(Tool):
    name = "report"
    description = "A long report."

    async def execute(self, size: int) -> dict[str, Any]:
        return {"标题": "报告", "body": "x" * size}


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


def events_of(events: list[RunEvent], kind: type[EventT]) -> list[EventT]:
    return [event for event in events if isinstance(event, kind)]


async def collect(server: ScriptedLLM, *, tools: list[Tool], **options: Any) -> list[RunEvent]:
    provider = provider_for(MODEL, base_url=server.base_url, api_key="test-key")
    return [event async for event in run_events(
        provider=provider, model=MODEL, messages=user("北京现在的天气怎么样?"), tools=tools,
        **options,
    )]


def tool_messages(request: dict) -> list[dict]:
    return [message for message in request["messages"] if message["role"] == "tool"]


async def test_it_streams_a_plain_answer_as_several_token_deltas(
    llm_server: ScriptedLLM,
) -> None:
    llm_server.script(Reply(text="Hello, world!", chunk_chars=4, usage=(7, 3)))

    events = await collect(llm_server, tools=[])

    assert [event.text for event in events_of(events, TokenDelta)] == [
        "Hell", "o, w", "orld", "!",
    ]
    assert events[-1] == FinalAnswer(text="Hello, world!", usage=Usage(7, 3))
    [step] = events_of(events, StepFinished)
    assert step.step.messages == (Message(role="assistant", content="Hello, world!"),)
    assert "tools" not in llm_server.requests[0]


async def test_it_sends_the_tool_result_back_with_the_call_id(llm_server: ScriptedLLM) -> None:
    llm_server.script(
        Reply(tool_calls=[("get_weather", {"city": "北京"})]),
        Reply(text="北京晴,25°C。"),
    )

    events = await collect(llm_server, tools=[WeatherTool()])

    [started] = events_of(events, ToolCallStarted)
    [finished] = events_of(events, ToolCallFinished)
    assert (started.name, started.arguments) == ("get_weather", '{"city": "\\u5317\\u4eac"}')
    assert finished.call_id == started.call_id
    assert (finished.result, finished.error) == ("北京 当前天气:晴,温度 25°C", None)
    assert finished.duration_ms >= 0
    first, second = llm_server.requests
    assert first["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "获取指定城市的天气信息",
        "parameters": WeatherTool.schema()}}]
    assert second["messages"][1]["tool_calls"][0]["id"] == started.call_id
    assert tool_messages(second) == [{"role": "tool", "tool_call_id": started.call_id,
                                      "content": "北京 当前天气:晴,温度 25°C"}]
    assert events[-1] == FinalAnswer(text="北京晴,25°C。", usage=Usage(20, 40))


async def test_it_records_every_message_for_the_caller_to_persist(
    llm_server: ScriptedLLM,
) -> None:
    llm_server.script(Reply(text="Let me check.", tool_calls=[("get_weather", {"city": "上海"})]),
                      Reply(text="上海晴。"))
    provider = provider_for(MODEL, base_url=llm_server.base_url, api_key="test-key")
    question = user("上海呢?")

    result = await run(provider=provider, model=MODEL, messages=question,
                       tools=[WeatherTool()])

    assert result.answer == "上海晴。"
    first, second = result.trace
    assert (first.index, second.index) == (1, 2)
    assert first.assistant.content == "Let me check."
    [call] = first.assistant.tool_calls
    assert first.tool_messages == (
        Message(role="tool", content="上海 当前天气:晴,温度 25°C", tool_call_id=call.id),
    )
    assert second.messages == (Message(role="assistant", content="上海晴。"),)
    assert result.messages == [*question, *first.messages, *second.messages]
    assert result.usage == Usage(20, 40)


class SleepyTool(Tool):
    name = "sleepy"
    description = "Sleeps half a second in a thread."

    def execute(self, label: str) -> str:
        time.sleep(0.5)
        return f"{label} rested"


class DozyTool(Tool):
    name = "dozy"
    description = "Sleeps half a second on the event loop."

    async def execute(self, label: str) -> str:
        await asyncio.sleep(0.5)
        return f"{label} dozed"


@pytest.mark.parametrize("tool", [SleepyTool(), DozyTool()], ids=["sync", "async"])
async def test_it_runs_the_calls_of_one_turn_in_parallel(
    llm_server: ScriptedLLM, tool: Tool,
) -> None:
    llm_server.script(
        Reply(tool_calls=[(tool.name, {"label": "a"}), (tool.name, {"label": "b"})]),
        Reply(text="both done"),
    )

    started = time.perf_counter()
    events = await collect(llm_server, tools=[tool])
    elapsed = time.perf_counter() - started

    assert elapsed < 0.9
    assert [event.error for event in events_of(events, ToolCallFinished)] == [None, None]
    assert [message["content"].split()[0] for message in tool_messages(llm_server.requests[1])
            ] == ["a", "b"]
    assert events[-1].text == "both done"  # type: ignore[union-attr]


async def test_it_lets_the_model_recover_from_malformed_json(llm_server: ScriptedLLM) -> None:
    llm_server.script(
        Reply(tool_calls=[("get_weather", '{"city": "北京"')]),
        Reply(tool_calls=[("get_weather", {"city": "北京"})]),
        Reply(text="晴"),
    )

    events = await collect(llm_server, tools=[WeatherTool()])

    first, second = events_of(events, ToolCallFinished)
    assert first.error is not None and "not valid JSON" in first.error
    assert first.arguments == '{"city": "北京"'
    [message] = tool_messages(llm_server.requests[1])
    assert message["content"].startswith("Error: the arguments of 'get_weather' are not valid")
    assert second.error is None
    assert events[-1] == FinalAnswer(text="晴", usage=Usage(30, 60))


@pytest.mark.parametrize(("arguments", "complaint"), [
    ({"city": 42}, "city: 42 is not of type 'string'"),
    ({}, "'city' is a required property"),
    ({"city": "北京", "country": "中国"}, "Additional properties are not allowed"),
    ("[1, 2]", "must be a JSON object"),
])
async def test_it_sends_schema_violations_back_to_the_model(
    llm_server: ScriptedLLM, arguments: dict | str, complaint: str,
) -> None:
    llm_server.script(Reply(tool_calls=[("get_weather", arguments)]), Reply(text="sorry"))

    events = await collect(llm_server, tools=[WeatherTool()])

    [message] = tool_messages(llm_server.requests[1])
    assert message["content"].startswith("Error: ")
    assert complaint in message["content"]
    assert events[-1].text == "sorry"  # type: ignore[union-attr]


async def test_it_tells_the_model_about_an_unknown_tool(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("get_wether", {"city": "北京"})]), Reply(text="ok"))

    events = await collect(llm_server, tools=[WeatherTool(), CalculatorTool()])

    [message] = tool_messages(llm_server.requests[1])
    assert message["content"] == (
        "Error: unknown tool 'get_wether'; available tools: calculator, get_weather"
    )
    assert isinstance(events[-1], FinalAnswer)


async def test_it_reports_a_tool_exception_and_carries_on(llm_server: ScriptedLLM) -> None:
    llm_server.script(
        Reply(tool_calls=[("lookup", {"key": "k1"}), ("get_weather", {"city": "北京"})]),
        Reply(text="partly"),
    )

    events = await collect(llm_server, tools=[FailingTool(), WeatherTool()])

    failed, fine = tool_messages(llm_server.requests[1])
    assert failed["content"] == (
        "Error: tool 'lookup' failed: RuntimeError: database down while reading k1"
    )
    assert fine["content"].startswith("北京")
    assert events[-1].text == "partly"  # type: ignore[union-attr]


async def test_it_passes_a_tool_error_on_in_the_tools_own_words(
    llm_server: ScriptedLLM,
) -> None:
    class Strict(Tool):
        name = "strict"
        description = "Knows few cities."

        def execute(self, city: str) -> str:
            raise ToolError(f"no weather station in {city}; try 北京")

    llm_server.script(Reply(tool_calls=[("strict", {"city": "拉萨"})]), Reply(text="ok"))

    events = await collect(llm_server, tools=[Strict()])

    [finished] = events_of(events, ToolCallFinished)
    assert finished.error == "no weather station in 拉萨; try 北京"
    assert tool_messages(llm_server.requests[1])[0]["content"] == (
        "Error: no weather station in 拉萨; try 北京"
    )


async def test_it_times_out_a_hanging_tool(llm_server: ScriptedLLM) -> None:
    release = threading.Event()

    class Hanging(Tool):
        name = "hanging"
        description = "Never answers in time."

        def execute(self) -> str:
            release.wait(10)
            return "too late"

    class Stuck(Tool):
        name = "stuck"
        description = "Never answers at all."

        async def execute(self) -> str:
            await asyncio.sleep(60)
            return "never"

    llm_server.script(Reply(tool_calls=[("hanging", ""), ("stuck", {})]), Reply(text="gave up"))
    started = time.perf_counter()
    try:
        events = await collect(llm_server, tools=[Hanging(), Stuck()], tool_timeout=0.3)
    finally:
        release.set()

    assert time.perf_counter() - started < 2
    assert [message["content"] for message in tool_messages(llm_server.requests[1])] == [
        "Error: tool 'hanging' timed out after 0.3 s", "Error: tool 'stuck' timed out after 0.3 s",
    ]
    assert events[-1].text == "gave up"  # type: ignore[union-attr]


async def test_it_truncates_long_tool_output_with_a_marker(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("report", {"size": 500})]), Reply(text="summarised"))

    events = await collect(llm_server, tools=[ReportTool()], max_tool_output=40)

    [message] = tool_messages(llm_server.requests[1])
    whole = '{"标题": "报告", "body": "' + "x" * 500 + '"}'
    assert message["content"] == f"{whole[:40]}\n[truncated: {len(whole) - 40} more characters]"
    [finished] = events_of(events, ToolCallFinished)
    assert finished.result == message["content"]


async def test_it_stops_at_the_step_limit(llm_server: ScriptedLLM) -> None:
    calls = Reply(tool_calls=[("calculator", {"expression": "1 + 1"})])
    llm_server.script(calls, calls, calls)

    events = await collect(llm_server, tools=[CalculatorTool()], max_steps=2)

    assert len(llm_server.requests) == 2
    assert len(events_of(events, StepFinished)) == 2
    error = events[-1]
    assert isinstance(error, RunError)
    assert (error.kind, error.status) == ("step_limit", 0)
    assert "step limit reached" in error.message and "2 turns" in error.message


async def test_it_raises_the_step_limit_with_what_was_done(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "6 * 7"})]))
    provider = provider_for(MODEL, base_url=llm_server.base_url, api_key="test-key")

    with pytest.raises(StepLimitError, match="step limit reached") as raised:
        await run(provider=provider, model=MODEL, messages=user("6*7?"),
                  tools=[CalculatorTool()], max_steps=1)

    [step] = raised.value.result.trace
    assert step.tool_messages[0].content == "42"


async def test_it_ends_with_the_provider_error(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(status=400, error_message="Tool choice must be auto"))

    events = await collect(llm_server, tools=[WeatherTool()])

    assert events == [RunError(message="Tool choice must be auto", status=400)]


async def test_it_raises_the_provider_error_from_run(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("get_weather", {"city": "北京"})]),
                      Reply(status=401, error_message="invalid api key"))
    provider = provider_for(MODEL, base_url=llm_server.base_url, api_key="test-key")

    with pytest.raises(ProviderError) as raised:
        await run(provider=provider, model=MODEL, messages=user("hi"), tools=[WeatherTool()])

    assert (raised.value.message, raised.value.status) == ("invalid api key", 401)


async def test_it_refuses_two_tools_with_one_name(llm_server: ScriptedLLM) -> None:
    with pytest.raises(ValueError, match="two tools are named 'get_weather'"):
        await collect(llm_server, tools=[WeatherTool(), WeatherTool()])


async def test_it_stops_at_once_when_cancelled_while_streaming(
    llm_server: ScriptedLLM,
) -> None:
    llm_server.script(Reply(text="x" * 200, chunk_chars=1, chunk_delay=0.05))
    first_token = asyncio.Event()
    seen: list[RunEvent] = []

    async def consume() -> None:
        async for event in run_events(
            provider=provider_for(MODEL, base_url=llm_server.base_url, api_key="test-key"),
            model=MODEL, messages=user("hi"), tools=[],
        ):
            seen.append(event)
            first_token.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_token.wait(), 5)
    task.cancel()
    started = time.perf_counter()

    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.perf_counter() - started < 0.5
    assert not events_of(seen, FinalAnswer)


async def test_it_cancels_running_tools_when_cancelled(llm_server: ScriptedLLM) -> None:
    tool_started, tool_cancelled = asyncio.Event(), asyncio.Event()

    class Waiting(Tool):
        name = "waiting"
        description = "Waits for a long time."

        async def execute(self) -> str:
            tool_started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                tool_cancelled.set()
                raise
            return "done"

    llm_server.script(Reply(tool_calls=[("waiting", {})]), Reply(text="unreached"))
    task = asyncio.create_task(collect(llm_server, tools=[Waiting()]))
    await asyncio.wait_for(tool_started.wait(), 5)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await asyncio.wait_for(tool_cancelled.wait(), 1)
    assert len(llm_server.requests) == 1


class Scale(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


async def test_it_drops_null_optional_arguments_and_converts_enums(
    llm_server: ScriptedLLM,
) -> None:
    class Thermometer(Tool):
        name = "thermometer"
        description = "Read the temperature."

        def execute(self, scale: Scale, zone: str | None = None) -> str:
            return f"{scale!r} zone={zone}"

    llm_server.script(Reply(tool_calls=[("thermometer", {"scale": "fahrenheit", "zone": None})]),
                      Reply(text="ok"))

    await collect(llm_server, tools=[Thermometer()])

    [message] = tool_messages(llm_server.requests[1])
    assert message["content"] == "<Scale.FAHRENHEIT: 'fahrenheit'> zone=None"
