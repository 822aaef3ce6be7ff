"""The Python SDK: an agent with tools and memory in a few lines, no database needed.

    from agents.sdk import Agent, Tool

    class WeatherTool(Tool):
        name = "get_weather"
        description = "获取指定城市的天气信息"
        def execute(self, city: str) -> str:
            return f"{city} 当前天气:晴,温度 25°C"

    agent = Agent(model="glm-4")
    agent.register_tool(WeatherTool())
    print(agent.run("北京现在的天气怎么样?"))

The provider comes from the environment (`ZHIPUAI_API_KEY` for glm-* models, else
`OAG_LLM_BASE_URL` + `OAG_LLM_API_KEY`) unless `provider`, `base_url` or `api_key` is given.
"""

import asyncio
import mimetypes
import os
from collections.abc import AsyncGenerator, Iterable, Iterator
from contextlib import aclosing
from pathlib import Path

from agents.providers import provider_for
from agents.providers.base import ImagePart, Message, Provider, ProviderError
from agents.runtime.events import (
    FinalAnswer,
    RunError,
    RunEvent,
    StepFinished,
    TokenDelta,
    ToolCallFinished,
    ToolCallStarted,
    TraceStep,
)
from agents.runtime.loop import RunRecorder, RunResult, StepLimitError, run_events
from agents.runtime.tools import Tool, ToolError

__all__ = [
    "Agent", "FinalAnswer", "ImagePart", "ProviderError", "RunError", "RunEvent", "RunResult",
    "StepFinished", "StepLimitError", "TokenDelta", "Tool", "ToolCallFinished",
    "ToolCallStarted", "ToolError", "TraceStep",
]

ImageInput = ImagePart | bytes | str | os.PathLike[str]

# Magic numbers of the formats vision models accept, for images given as bare bytes.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"),
)


class Agent:
    """A model, a system prompt, tools and the conversation so far."""

    def __init__(
        self, model: str, *, system_prompt: str | None = None,
        temperature: float | None = None, max_steps: int = 8,
        provider: Provider | None = None, base_url: str | None = None,
        api_key: str | None = None, tools: Iterable[Tool] = (),
        tool_timeout: float | None = 30.0, max_tool_output: int = 8000,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_steps = max_steps
        self.tool_timeout = tool_timeout
        self.max_tool_output = max_tool_output
        self.provider = provider or provider_for(model, base_url=base_url, api_key=api_key)
        self.tools: dict[str, Tool] = {}
        self.history: list[Message] = []
        self.last_run: RunResult | None = None
        for tool in tools:
            self.register_tool(tool)

    def register_tool(self, tool: Tool) -> None:
        """Add a tool; its schema is checked now, so a bad one fails here, not mid-run."""
        if not isinstance(tool, Tool):
            raise TypeError(f"register_tool() takes a Tool instance, got {tool!r}")
        tool.spec()
        if tool.name in self.tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self.tools[tool.name] = tool

    def reset(self) -> None:
        """Forget the conversation: the next run starts afresh."""
        self.history = []
        self.last_run = None

    def run(self, text: str, *, images: Iterable[ImageInput] = ()) -> str:
        """Ask and wait for the final answer; the whole run is kept in `last_run`.

        Raises ProviderError or StepLimitError; the conversation then stays as it was."""
        _refuse_running_loop("run", instead="arun")
        return asyncio.run(self.arun(text, images=images))

    async def arun(self, text: str, *, images: Iterable[ImageInput] = ()) -> str:
        recorder = self._recorder(text, images=images)
        async with aclosing(self._events(recorder)) as events:
            async for _ in events:
                pass
        return recorder.result().answer

    def stream(self, text: str, *, images: Iterable[ImageInput] = ()) -> Iterator[RunEvent]:
        """The run's events as they happen, from plain sync code; see `astream`."""
        _refuse_running_loop("stream", instead="astream")
        with asyncio.Runner() as runner:
            events = self.astream(text, images=images)
            try:
                while True:
                    try:
                        event = runner.run(_next(events))
                    except StopAsyncIteration:
                        return
                    yield event
            finally:
                # The caller may stop early: close the run on the loop that started it.
                runner.run(_close(events))

    def astream(
        self, text: str, *, images: Iterable[ImageInput] = (),
    ) -> AsyncGenerator[RunEvent, None]:
        """The run's events as they happen, ending with FinalAnswer or RunError (no raise)."""
        return self._events(self._recorder(text, images=images))

    def _recorder(self, text: str, *, images: Iterable[ImageInput]) -> RunRecorder:
        question = Message(role="user", content=text, images=_image_parts(images))
        return RunRecorder(messages=[*self.history, question])

    async def _events(self, recorder: RunRecorder) -> AsyncGenerator[RunEvent, None]:
        async with aclosing(run_events(
            provider=self.provider, model=self.model,
            messages=self._prompt() + recorder.messages, tools=list(self.tools.values()),
            temperature=self.temperature, max_steps=self.max_steps,
            tool_timeout=self.tool_timeout, max_tool_output=self.max_tool_output,
        )) as events:
            async for event in events:
                recorder.record(event)
                yield event
        self.last_run = recorder.partial()
        if recorder.error is None and recorder.answer is not None:
            self.history = self.last_run.messages

    def _prompt(self) -> list[Message]:
        return [Message(role="system", content=self.system_prompt)] if self.system_prompt else []


# Runner.run() takes coroutines only, not the awaitables an async generator hands out.
async def _next(events: AsyncGenerator[RunEvent, None]) -> RunEvent:
    return await anext(events)


async def _close(events: AsyncGenerator[RunEvent, None]) -> None:
    await events.aclose()


def _refuse_running_loop(method: str, *, instead: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"Agent.{method}() cannot be called from inside a running event loop (async code, "
        f"Jupyter, an ASGI view); use `await agent.{instead}(...)` there instead"
    )


def _image_parts(images: Iterable[ImageInput]) -> tuple[ImagePart, ...]:
    return tuple(_image_part(image) for image in images)


def _image_part(image: ImageInput) -> ImagePart:
    if isinstance(image, ImagePart):
        return image
    if isinstance(image, bytes):
        return ImagePart(data=image, mime_type=_sniffed_mime_type(image))
    path = Path(image)
    data = path.read_bytes()
    guessed, _ = mimetypes.guess_type(path.name)
    return ImagePart(data=data, mime_type=guessed or _sniffed_mime_type(data))


def _sniffed_mime_type(data: bytes) -> str:
    for signature, mime_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ValueError("unrecognised image bytes: give PNG, JPEG, GIF or WebP, or an ImagePart")
