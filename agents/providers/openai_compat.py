"""A provider for any server speaking the OpenAI chat completions protocol (pure core).

GLM, OpenAI, vLLM, Ollama and llama.cpp differ only in the details a `Profile` holds. The
openai client does the HTTP and SSE parsing; this module does the retries (the client's own
are off, so that Retry-After, jitter and "never retry after text went out" are ours), the
conversion to the wire format, and the reassembly of streamed tool calls.
"""

import asyncio
import base64
import json
import random
import uuid
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from agents.providers.base import (
    Completion,
    ImagePart,
    Message,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from agents.providers.profiles import Profile

# 408 (timeout), 409 (lock conflict) and 429 say "later"; 5xx are the server's own failures.
# Every other 4xx (400 bad request, 401 key, 403, 404) would only fail again.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Exponential backoff stops growing here (seconds), so the last of several retries stays short.
BACKOFF_CAP = 8.0
# A Retry-After beyond this (seconds) is taken as this: a chat turn should not hang longer.
RETRY_AFTER_CAP = 60.0

# One client per event loop and (server, key, timeout), kept for the loop's life: turns then
# reuse its open connections (no TCP/TLS handshake per turn) and its SSL context, whose CA
# bundle alone took 26 ms to load here, each turn, before the model was even asked. Per loop,
# because a client's connection pool is bound to the loop it first ran on: daphne keeps one
# loop, the SDK and async_to_sync make a fresh one per call. Weak keys: an entry goes with
# its loop.
_ClientKey = tuple[str, str, float]
_loop_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients]" = (
    weakref.WeakKeyDictionary())


class OpenAICompatProvider:
    """Streams chat turns from an OpenAI-compatible server, retrying what can be retried."""

    def __init__(
        self, base_url: str, api_key: str, profile: Profile, *,
        timeout: float = 60.0, max_retries: int = 3, backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.profile = profile
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff  # seconds before the first retry, doubling after each

    async def stream(
        self, *, model: str, messages: list[Message], tools: list[ToolSpec],
        temperature: float | None = None, max_tokens: int | None = None,
    ) -> AsyncIterator[ProviderEvent]:
        request = self._request(
            model=model, messages=messages, tools=tools,
            temperature=temperature, max_tokens=max_tokens,
        )
        client = await _loop_client((self.base_url, self.api_key, self.timeout))
        for attempt in range(self.max_retries + 1):
            turn = _Turn()
            try:
                async for event in _attempt(client, request=request, turn=turn):
                    yield event
                return
            except (openai.OpenAIError, json.JSONDecodeError) as error:
                failure = self._failure(error)
                # Text already went out: a retry would repeat it, so the caller decides.
                if not failure.retryable or turn.text or attempt == self.max_retries:
                    raise _given_up(failure, attempts=attempt + 1) from error
                delay = self._retry_delay(error, attempt=attempt)
            await asyncio.sleep(delay)

    def _request(
        self, *, model: str, messages: list[Message], tools: list[ToolSpec],
        temperature: float | None, max_tokens: int | None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": model, "stream": True,
            "messages": [wire_message(message, profile=self.profile) for message in messages],
        }
        if tools:
            request["tools"] = [wire_tool(tool) for tool in tools]
            if self.profile.tool_choice is not None:
                request["tool_choice"] = self.profile.tool_choice
        if temperature is not None:
            request["temperature"] = self.profile.clamp_sampling(temperature)
        if max_tokens is not None:
            request["max_tokens"] = max_tokens
        if self.profile.stream_usage_option:
            request["stream_options"] = {"include_usage": True}
        return request

    def _failure(self, error: Exception) -> ProviderError:
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            retryable = status in RETRYABLE_STATUSES or status >= 500
            return ProviderError(_status_message(error), status=status, retryable=retryable)
        if isinstance(error, openai.APITimeoutError):
            message = f"the model server at {self.base_url} did not answer in {self.timeout:g} s"
            return ProviderError(message, retryable=True)
        if isinstance(error, openai.APIConnectionError):
            cause = error.__cause__ or error
            message = f"could not reach the model server at {self.base_url}: {cause}"
            return ProviderError(message, retryable=True)
        if isinstance(error, json.JSONDecodeError):
            return ProviderError(f"the model server sent a malformed stream chunk: {error}")
        return ProviderError(getattr(error, "message", None) or str(error))

    def _retry_delay(self, error: Exception, *, attempt: int) -> float:
        hinted = _retry_after(error)
        if hinted is not None:
            return min(hinted, RETRY_AFTER_CAP)
        ceiling = min(self.backoff * 2**attempt, BACKOFF_CAP)
        # Jitter spreads the retries of many conversations hit by the same rate limit.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class _LoopClients:
    clients: dict[_ClientKey, openai.AsyncOpenAI]
    closer: AsyncGenerator[None, None]  # held here: the loop keeps only a weak reference


async def _loop_client(key: _ClientKey) -> openai.AsyncOpenAI:
    """The running loop's client for (base_url, api_key, timeout), created on first use."""
    loop = asyncio.get_running_loop()
    held = _loop_clients.get(loop)
    if held is None:
        clients: dict[_ClientKey, openai.AsyncOpenAI] = {}
        held = _loop_clients[loop] = _LoopClients(clients, _closed_at_shutdown(clients))
        await anext(held.closer)
    if key not in held.clients:
        base_url, api_key, timeout = key
        held.clients[key] = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
    return held.clients[key]


async def _closed_at_shutdown(
    clients: dict[_ClientKey, openai.AsyncOpenAI],
) -> AsyncGenerator[None, None]:
    """Stays suspended for the loop's life. asyncio.run(), asyncio.Runner and async_to_sync
    close every suspended async generator (shutdown_asyncgens) before closing their loop: this
    one then closes the loop's clients and their sockets. (A hand-made loop closed without
    shutdown_asyncgens() leaks them, like any unclosed client.)"""
    try:
        yield
    finally:
        _loop_clients.pop(asyncio.get_running_loop(), None)
        for client in clients.values():
            await client.close()


async def _attempt(
    client: openai.AsyncOpenAI, *, request: dict[str, Any], turn: "_Turn",
) -> AsyncIterator[ProviderEvent]:
    chunks = await client.chat.completions.create(**request)
    async with chunks:
        async for chunk in chunks:
            text = turn.add(chunk)
            if text:
                yield TextDelta(text)
    yield turn.completion()


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _Turn:
    """One assistant turn as it streams in: text so far, tool-call fragments, usage."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Takes one chunk in and returns the text it adds ("" if none)."""
        if chunk.usage is not None:
            self.usage = Usage(prompt_tokens=chunk.usage.prompt_tokens or 0,
                               completion_tokens=chunk.usage.completion_tokens or 0)
        added = ""
        for choice in chunk.choices:
            for fragment in choice.delta.tool_calls or ():
                self._add_fragment(fragment)
            if choice.delta.content:
                added += choice.delta.content
            self.finish_reason = choice.finish_reason or self.finish_reason
        if added:
            self.text.append(added)
        return added

    def _add_fragment(self, fragment: ChoiceDeltaToolCall) -> None:
        call = self.calls.setdefault(fragment.index, _PartialCall())
        call.id = call.id or fragment.id or ""
        if fragment.function is not None:
            # Set once: some servers repeat the whole name in every fragment.
            call.name = call.name or fragment.function.name or ""
            call.arguments.append(fragment.function.arguments or "")

    def completion(self) -> Completion:
        calls = tuple(
            ToolCall(id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=call.name,
                     arguments="".join(call.arguments))
            for _, call in sorted(self.calls.items())
        )
        # Ollama and others say "stop" even when they called tools; the calls are what count.
        finish_reason = "tool_calls" if calls else (self.finish_reason or "stop")
        return Completion(content="".join(self.text), tool_calls=calls,
                          finish_reason=finish_reason, usage=self.usage)


def wire_message(message: Message, *, profile: Profile) -> dict[str, Any]:
    """The OpenAI wire form of one message."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id,
                "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {"role": "assistant", "content": message.content or None,
                "tool_calls": [wire_tool_call(call) for call in message.tool_calls]}
    if message.role == "user" and message.images:
        return {"role": "user", "content": _content_parts(message, profile=profile)}
    return {"role": message.role, "content": message.content}


def wire_tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": call.arguments}}


def wire_tool(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": tool.name, "description": tool.description, "parameters": tool.parameters,
    }}


def _content_parts(message: Message, *, profile: Profile) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    for image in message.images:
        parts.append({"type": "image_url", "image_url": {"url": image_url(image, profile=profile)}})
    return parts


def image_url(image: ImagePart, *, profile: Profile) -> str:
    encoded = base64.b64encode(image.data).decode("ascii")
    if profile.image_data_urls:
        return f"data:{image.mime_type};base64,{encoded}"
    return encoded


def _status_message(error: openai.APIStatusError) -> str:
    """The server's own words: `message` from its {"error": {...}} body when there is one."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return body["message"]
    if isinstance(body, str) and body:
        return body
    return f"the model server answered HTTP {error.status_code}"


def _retry_after(error: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After or retry-after-ms), if it did."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    try:
        if "retry-after-ms" in headers:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        if "retry-after" in headers:
            return max(_seconds_until(headers["retry-after"]), 0.0)
    except (TypeError, ValueError):
        return None
    return None


def _seconds_until(retry_after: str) -> float:
    """Retry-After is either a number of seconds or an HTTP date."""
    try:
        return float(retry_after)
    except ValueError:
        moment = parsedate_to_datetime(retry_after)
        return (moment - datetime.now(UTC)).total_seconds()


def _given_up(failure: ProviderError, *, attempts: int) -> ProviderError:
    if attempts == 1:
        return failure
    message = f"{failure.message} (gave up after {attempts} attempts)"
    return ProviderError(message, status=failure.status, retryable=failure.retryable)
