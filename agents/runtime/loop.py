"""The function-calling loop: model turn, tool calls, results back, until an answer (pure core).

`run_events` is the one implementation; everything else (`run`, the SDK, the Django chat
service) consumes its events. Whatever the model gets wrong — malformed JSON, arguments that
break the schema, a tool that does not exist, raises or hangs — goes back to it as an
`Error: ...` tool message so it can correct itself; only the provider failing ends a run early.
"""

import asyncio
import contextvars
import functools
import inspect
import json
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from agents.providers.base import (
    Completion,
    Message,
    Provider,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
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
from agents.runtime.tools import Tool, ToolError

# Schema errors listed back to the model per call: enough to fix several at once, short
# enough not to drown the conversation.
MAX_SCHEMA_ERRORS = 3
# Sync tools run here. 32 threads, like the default executor on a big machine, is plenty for
# tools that mostly wait on I/O; more calls than that queue instead of piling up threads.
_TOOL_THREADS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="oagweb-tool")


class StepLimitError(RuntimeError):
    """The model still wanted tools after `max_steps` turns. `result` holds what it did."""

    def __init__(self, message: str, *, result: "RunResult") -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class RunResult:
    answer: str
    trace: list[TraceStep]
    messages: list[Message]  # the input messages followed by every message the run added
    usage: Usage


@dataclass(frozen=True)
class _Toolbox:
    tools: dict[str, tuple[Tool, Draft202012Validator]]

    @classmethod
    def of(cls, tools: list[Tool]) -> "_Toolbox":
        found: dict[str, tuple[Tool, Draft202012Validator]] = {}
        for tool in tools:
            if tool.name in found:
                raise ValueError(f"two tools are named {tool.name!r}")
            found[tool.name] = (tool, Draft202012Validator(tool.schema()))
        return cls(tools=found)


@dataclass(frozen=True)
class _Setup:
    """What stays the same for every step of one run."""

    provider: Provider
    model: str
    specs: list[ToolSpec]
    toolbox: _Toolbox
    temperature: float | None
    max_tokens: int | None
    tool_timeout: float | None
    max_tool_output: int


async def run_events(
    *, provider: Provider, model: str, messages: list[Message], tools: list[Tool],
    temperature: float | None = None, max_tokens: int | None = None, max_steps: int = 8,
    tool_timeout: float | None = 30.0, max_tool_output: int = 8000,
) -> AsyncIterator[RunEvent]:
    """Run the conversation to an answer, yielding events; never raises for model mistakes.

    Ends with exactly one FinalAnswer or RunError. Each StepFinished carries that turn's
    messages, final at that point, for the caller to persist.
    """
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    setup = _Setup(
        provider=provider, model=model, specs=[tool.spec() for tool in tools],
        toolbox=_Toolbox.of(tools), temperature=temperature, max_tokens=max_tokens,
        tool_timeout=tool_timeout, max_tool_output=max_tool_output,
    )
    conversation = list(messages)
    total = Usage()
    for index in range(1, max_steps + 1):
        async with aclosing(_step(setup, index=index, messages=list(conversation))) as step:
            async for event in step:
                yield event
                if isinstance(event, RunError):
                    return
                if isinstance(event, StepFinished):
                    conversation.extend(event.step.messages)
                    total = _sum(total, event.step.usage)
                    if not event.step.assistant.tool_calls:
                        yield FinalAnswer(text=event.step.assistant.content, usage=total)
                        return
    yield RunError(
        message=f"step limit reached: the model was still calling tools after {max_steps} "
                "turns and gave no final answer",
        kind="step_limit",
    )


async def _step(
    setup: _Setup, *, index: int, messages: list[Message],
) -> AsyncIterator[RunEvent]:
    """One model turn and the tool calls it asked for; ends with StepFinished or RunError."""
    completion: Completion | None = None
    async with aclosing(_model_turn(setup, messages=messages)) as model_turn:
        async for event in model_turn:
            if isinstance(event, Completion):
                completion = event
            else:
                yield event
    if completion is None:
        return  # the model turn ended with a RunError
    assistant = Message(role="assistant", content=completion.content,
                        tool_calls=completion.tool_calls)
    results: tuple[ToolCallFinished, ...] = ()
    if completion.tool_calls:
        async with aclosing(_tool_turn(completion.tool_calls, setup=setup)) as tool_turn:
            async for tool_event in tool_turn:
                if isinstance(tool_event, tuple):
                    results = tool_event
                else:
                    yield tool_event
    yield StepFinished(step=_trace_step(index=index, assistant=assistant, results=results,
                                        usage=completion.usage))


async def _model_turn(
    setup: _Setup, *, messages: list[Message],
) -> AsyncIterator[TokenDelta | Completion | RunError]:
    """The model's text as TokenDeltas, then its Completion, or a RunError if it failed."""
    completion: Completion | None = None
    try:
        async with _closing(setup.provider.stream(
            model=setup.model, messages=messages, tools=setup.specs,
            temperature=setup.temperature, max_tokens=setup.max_tokens,
        )) as stream:
            async for event in stream:
                if isinstance(event, TextDelta) and event.text:
                    yield TokenDelta(text=event.text)
                elif isinstance(event, Completion):
                    completion = event
    except ProviderError as exc:
        yield RunError(message=exc.message, status=exc.status)
        return
    yield completion or RunError(message="the provider ended its stream without a completion")


@asynccontextmanager
async def _closing(stream: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """Close the provider's stream (and its HTTP response) however the turn ends."""
    try:
        yield stream
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


async def _tool_turn(
    calls: tuple[ToolCall, ...], *, setup: _Setup,
) -> AsyncIterator[ToolCallStarted | ToolCallFinished | tuple[ToolCallFinished, ...]]:
    """Run one turn's calls in parallel: Started for each, Finished as each ends, then all
    results as one tuple in the order of the calls."""
    for call in calls:
        yield ToolCallStarted(call_id=call.id, name=call.name, arguments=call.arguments)
    tasks = [asyncio.create_task(_execute(call, toolbox=setup.toolbox, timeout=setup.tool_timeout,
                                          max_output=setup.max_tool_output))
             for call in calls]
    try:
        for next_finished in asyncio.as_completed(tasks):
            yield await next_finished
    finally:
        # Reached early only when the run is cancelled or abandoned: stop what still runs.
        # A sync tool's thread cannot be interrupted; its result is simply dropped.
        for task in tasks:
            task.cancel()
    yield tuple(task.result() for task in tasks)


def _trace_step(
    *, index: int, assistant: Message, results: tuple[ToolCallFinished, ...], usage: Usage,
) -> TraceStep:
    messages = tuple(
        Message(role="tool", content=result.result, tool_call_id=call.id)
        for call, result in zip(assistant.tool_calls, results, strict=True)
    )
    return TraceStep(index=index, assistant=assistant, tool_calls=results,
                     tool_messages=messages, usage=usage)


async def tool_call_execute(
    tool: Tool, *, arguments: str, timeout: float | None = 30.0, max_output: int = 8000,
) -> ToolCallFinished:
    """One call of one tool exactly as a run makes it (validated, timed, truncated), e.g. to
    try a tool from its page."""
    call = ToolCall(id="trial", name=tool.name, arguments=arguments)
    return await _execute(call, toolbox=_Toolbox.of([tool]), timeout=timeout,
                          max_output=max_output)


async def _execute(
    call: ToolCall, *, toolbox: _Toolbox, timeout: float | None, max_output: int,
) -> ToolCallFinished:
    started = time.perf_counter()
    error: str | None = None
    try:
        output = _text_of(await _invoke(call, toolbox=toolbox, timeout=timeout))
    except ToolError as exc:
        error = str(exc)
    except Exception as exc:  # a tool may fail in any way; the model hears about it
        error = f"tool {call.name!r} failed: {type(exc).__name__}: {exc}"
    content = f"Error: {error}" if error is not None else output
    return ToolCallFinished(
        call_id=call.id, name=call.name, arguments=call.arguments,
        result=_truncated(content, limit=max_output), error=error,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


async def _invoke(call: ToolCall, *, toolbox: _Toolbox, timeout: float | None) -> Any:
    if call.name not in toolbox.tools:
        known = ", ".join(sorted(toolbox.tools)) or "none"
        raise ToolError(f"unknown tool {call.name!r}; available tools: {known}")
    tool, validator = toolbox.tools[call.name]
    kwargs = tool.bind(_validated(call, tool=tool, validator=validator))
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            if tool.is_async():
                return await tool.execute(**kwargs)
            result = await _in_thread(tool, kwargs)
            return await result if inspect.isawaitable(result) else result
    except TimeoutError:
        if scope.expired():
            raise ToolError(f"tool {call.name!r} timed out after {timeout:g} s") from None
        raise


async def _in_thread(tool: Tool, kwargs: dict[str, Any]) -> Any:
    # Like asyncio.to_thread (context variables included) but off the loop's default executor:
    # asyncio.run() joins that one at exit, so a sync tool hung past its timeout would hang
    # the caller too.
    context = contextvars.copy_context()
    call = functools.partial(context.run, tool.execute, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_TOOL_THREADS, call)


def _validated(call: ToolCall, *, tool: Tool, validator: Draft202012Validator) -> dict[str, Any]:
    # Some models send "" for a tool without parameters.
    text = call.arguments.strip() or "{}"
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolError(f"the arguments of {call.name!r} are not valid JSON ({exc.msg} at "
                        f"character {exc.pos}); send one JSON object") from None
    if not isinstance(arguments, dict):
        raise ToolError(f"the arguments of {call.name!r} must be a JSON object")
    arguments = tool.drop_nulls(arguments)
    errors = sorted(validator.iter_errors(arguments),
                    key=lambda error: [str(part) for part in error.path])
    if errors:
        details = "; ".join(_schema_error(error) for error in errors[:MAX_SCHEMA_ERRORS])
        raise ToolError(f"invalid arguments for {call.name!r}: {details}")
    return arguments


def _schema_error(error: Any) -> str:
    path = "/".join(str(part) for part in error.absolute_path)
    return f"{path}: {error.message}" if path else error.message


def _text_of(output: Any) -> str:
    if isinstance(output, str):
        return output
    if output is None:
        return "(no output)"
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


def _truncated(text: str, *, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[truncated: {len(text) - limit} more characters]"


def _sum(total: Usage, more: Usage) -> Usage:
    return Usage(prompt_tokens=total.prompt_tokens + more.prompt_tokens,
                 completion_tokens=total.completion_tokens + more.completion_tokens)


@dataclass
class RunRecorder:
    """Folds a run's events into its result, for callers that want the whole of it."""

    messages: list[Message]
    trace: list[TraceStep] = field(default_factory=list)
    answer: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: RunError | None = None

    def record(self, event: RunEvent) -> None:
        if isinstance(event, StepFinished):
            self.trace.append(event.step)
            self.messages.extend(event.step.messages)
            self.usage = _sum(self.usage, event.step.usage)
        elif isinstance(event, FinalAnswer):
            self.answer = event.text
        elif isinstance(event, RunError):
            self.error = event

    def partial(self) -> RunResult:
        """What the run did so far, answer or not."""
        return RunResult(answer=self.answer or "", trace=list(self.trace),
                         messages=list(self.messages), usage=self.usage)

    def result(self) -> RunResult:
        """The finished run; raises ProviderError or StepLimitError if it ended without one."""
        if self.error is not None and self.error.kind == "step_limit":
            raise StepLimitError(self.error.message, result=self.partial())
        if self.error is not None:
            raise ProviderError(self.error.message, status=self.error.status)
        if self.answer is None:
            raise RuntimeError("the run ended before a final answer or an error")
        return self.partial()


async def run(
    *, provider: Provider, model: str, messages: list[Message], tools: list[Tool],
    temperature: float | None = None, max_tokens: int | None = None, max_steps: int = 8,
    tool_timeout: float | None = 30.0, max_tool_output: int = 8000,
) -> RunResult:
    """`run_events` to its end; raises ProviderError or StepLimitError instead of RunError."""
    recorder = RunRecorder(messages=list(messages))
    async with aclosing(run_events(
        provider=provider, model=model, messages=messages, tools=tools,
        temperature=temperature, max_tokens=max_tokens, max_steps=max_steps,
        tool_timeout=tool_timeout, max_tool_output=max_tool_output,
    )) as events:
        async for event in events:
            recorder.record(event)
    return recorder.result()
