"""A scripted OpenAI-compatible chat server on loopback, speaking the real wire protocol.

The LLM provider is the one thing tests cannot reach, so this stands in for it: each
POST /v1/chat/completions pops the next scripted `Reply` and answers it exactly as
OpenAI and GLM do — SSE `chat.completion.chunk` frames ending with `data: [DONE]`, tool
calls split into fragments told apart by `index`, `{"error": {...}}` bodies on failure.
It runs an aiohttp server on its own event loop in a background thread, so both sync and
async tests can use it.
"""

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

DEFAULT_MODELS = ["glm-4", "glm-4v", "gpt-4o-mini", "llama3"]
# Long enough for a slow CI box, short enough that a broken start fails the test quickly.
START_TIMEOUT = 5.0
# In-flight slow streams are cut after this at stop(), so teardown never hangs a test.
SHUTDOWN_TIMEOUT = 0.5
# Tool-call arguments are split into this many pieces at most when fragmenting.
ARGUMENT_PIECES = 3


@dataclass
class Reply:
    """One scripted model turn."""

    text: str = ""
    # (name, arguments): a dict is sent as its JSON text, a str is sent as is (malformed JSON).
    tool_calls: list[tuple[str, dict | str]] = field(default_factory=list)
    # != 200: answer with that status and {"error": {"code": str(status), "message": ...}}.
    status: int = 200
    error_message: str = ""
    chunk_delay: float = 0.0  # seconds slept between SSE chunks (slow streaming)
    chunk_chars: int = 4  # characters of text per content chunk
    # GLM style: id/type/name only in a call's first fragment, arguments in several pieces.
    fragment_tool_calls: bool = True
    usage: tuple[int, int] = (10, 20)  # prompt_tokens, completion_tokens
    reasoning: str = ""  # reasoning_content deltas sent before the text
    headers: dict[str, str] = field(default_factory=dict)  # extra headers, e.g. Retry-After
    stall: float = 0.0  # seconds slept after the content, before finish_reason (a stall)


class ScriptedLLM:
    """The server: `script()` replies, point a client at `base_url`, inspect `requests`."""

    def __init__(self, *, models: list[str] | None = None) -> None:
        self.base_url = ""
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.models = list(models or DEFAULT_MODELS)
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> Self:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="scripted-llm", daemon=True,
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or not self.base_url:
            raise RuntimeError("the scripted LLM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        finally:
            ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        # handler_cancellation: a client that hangs up (a timeout test) ends its slow stream.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT, handler_cancellation=True,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/v1"

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Streams still sleeping past the shutdown timeout end here, not as stray tasks.
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    async def _list_models(self, request: web.Request) -> web.Response:
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}
            for name in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append({name.lower(): value for name, value in request.headers.items()})
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            return web.json_response({"error": {"message": "script exhausted"}}, status=500)
        if reply.status != 200:
            return _error_response(reply)
        completion_id = f"chatcmpl-scripted-{next(self._ids)}"
        if not body.get("stream"):
            return web.json_response(
                _completion(reply, body=body, completion_id=completion_id),
                headers=reply.headers,
            )
        return await self._stream(request, reply=reply, body=body, completion_id=completion_id)

    async def _stream(
        self, request: web.Request, *, reply: Reply, body: dict, completion_id: str,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                     **reply.headers},
        )
        await response.prepare(request)
        chunks = _chunks(reply, body=body, completion_id=completion_id)
        try:
            for index, chunk in enumerate(chunks):
                if index and reply.chunk_delay:
                    await asyncio.sleep(reply.chunk_delay)
                if chunk["choices"] and chunk["choices"][0]["finish_reason"] and reply.stall:
                    await asyncio.sleep(reply.stall)
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            # The client hung up (a timeout test, a cancelled run): nothing left to answer.
            pass
        return response


def _error_response(reply: Reply) -> web.Response:
    error = {"code": str(reply.status), "message": reply.error_message}
    return web.json_response({"error": error}, status=reply.status, headers=reply.headers)


def _arguments_text(arguments: dict | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _call_id(completion_id: str, index: int) -> str:
    return f"call_{completion_id.rsplit('-', 1)[-1]}_{index}"


def _finish_reason(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(reply: Reply) -> dict[str, int]:
    prompt, completion = reply.usage
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(reply: Reply, *, body: dict, completion_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": _call_id(completion_id, index), "type": "function",
             "function": {"name": name, "arguments": _arguments_text(arguments)}}
            for index, (name, arguments) in enumerate(reply.tool_calls)
        ]
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(reply)}],
        "usage": _usage(reply),
    }


def _pieces(text: str, size: int) -> Iterator[str]:
    size = max(size, 1)
    for start in range(0, len(text), size):
        yield text[start:start + size]


def _tool_call_deltas(reply: Reply, *, completion_id: str) -> Iterator[list[dict]]:
    for index, (name, arguments) in enumerate(reply.tool_calls):
        call_id = _call_id(completion_id, index)
        text = _arguments_text(arguments)
        if not reply.fragment_tool_calls:
            yield [{"index": index, "id": call_id, "type": "function",
                    "function": {"name": name, "arguments": text}}]
            continue
        yield [{"index": index, "id": call_id, "type": "function",
                "function": {"name": name, "arguments": ""}}]
        piece_size = max(1, -(-len(text) // ARGUMENT_PIECES))
        for piece in _pieces(text, piece_size):
            yield [{"index": index, "function": {"arguments": piece}}]


def _deltas(reply: Reply, *, completion_id: str) -> Iterator[dict]:
    yield {"role": "assistant", "content": ""}
    for piece in _pieces(reply.reasoning, reply.chunk_chars):
        yield {"reasoning_content": piece}
    for piece in _pieces(reply.text, reply.chunk_chars):
        yield {"content": piece}
    for calls in _tool_call_deltas(reply, completion_id=completion_id):
        yield {"tool_calls": calls}


def _chunks(reply: Reply, *, body: dict, completion_id: str) -> Iterator[dict]:
    def chunk(choices: list[dict], **extra: Any) -> dict:
        return {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                "model": body.get("model", ""), "choices": choices, **extra}

    created = int(time.time())
    for delta in _deltas(reply, completion_id=completion_id):
        yield chunk([{"index": 0, "delta": delta, "finish_reason": None}])
    last = {"index": 0, "delta": {}, "finish_reason": _finish_reason(reply)}
    if (body.get("stream_options") or {}).get("include_usage"):
        # OpenAI: usage comes in one more chunk with empty choices, only when asked for.
        yield chunk([last])
        yield chunk([], usage=_usage(reply))
    else:
        # GLM: usage rides on the chunk that carries finish_reason, unasked.
        yield chunk([last], usage=_usage(reply))
