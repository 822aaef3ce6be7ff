"""The scripted LLM server speaks the OpenAI / GLM wire protocol, checked with raw httpx."""

import asyncio
import json
import time

import httpx
import pytest

from tests.agents.llm_server import Reply, ScriptedLLM


def sse_events(body: str) -> list[str]:
    """The `data:` payloads of an SSE body, asserting the framing on the way."""
    assert body.endswith("\n\n")
    frames = body.split("\n\n")[:-1]
    assert all(frame.startswith("data: ") and "\n" not in frame for frame in frames)
    return [frame.removeprefix("data: ") for frame in frames]


def post_stream(server: ScriptedLLM, **body: object) -> httpx.Response:
    payload = {"model": "glm-4", "messages": [{"role": "user", "content": "hi"}],
               "stream": True, **body}
    return httpx.post(f"{server.base_url}/chat/completions", json=payload)


def stream_chunks(server: ScriptedLLM, **body: object) -> list[dict]:
    response = post_stream(server, **body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


def reassemble_tool_calls(chunks: list[dict]) -> dict[int, dict]:
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for fragment in choice["delta"].get("tool_calls", []):
                call = calls.setdefault(fragment["index"], {"arguments": ""})
                call.update({k: fragment[k] for k in ("id", "type") if k in fragment})
                function = fragment.get("function", {})
                if "name" in function:
                    call["name"] = function["name"]
                call["arguments"] += function.get("arguments", "")
    return calls


def test_it_streams_text_in_chat_completion_chunks(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="Hello there", chunk_chars=4))

    chunks = stream_chunks(llm_server)

    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["model"] == "glm-4" and chunk["created"] for chunk in chunks)
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]
    assert deltas[0]["role"] == "assistant"
    pieces = [delta["content"] for delta in deltas if delta.get("content")]
    assert pieces == ["Hell", "o th", "ere"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_it_fragments_tool_calls_glm_style(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("get_weather", {"city": "Paris", "days": 3}),
                                        ("add", '{"a": 1,')]))

    chunks = stream_chunks(llm_server)

    fragments = [fragment for chunk in chunks for choice in chunk["choices"]
                 for fragment in choice["delta"].get("tool_calls", [])]
    first_call = [fragment for fragment in fragments if fragment["index"] == 0]
    assert len(first_call) > 2
    assert first_call[0]["id"] and first_call[0]["function"]["name"] == "get_weather"
    assert all("id" not in f and "name" not in f["function"] for f in first_call[1:])
    calls = reassemble_tool_calls(chunks)
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris", "days": 3}
    assert calls[1]["name"] == "add" and calls[1]["arguments"] == '{"a": 1,'
    assert calls[0]["id"] != calls[1]["id"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_it_sends_whole_tool_calls_when_not_fragmenting(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("add", {"a": 1})], fragment_tool_calls=False))

    chunks = stream_chunks(llm_server)

    fragments = [fragment for chunk in chunks for choice in chunk["choices"]
                 for fragment in choice["delta"].get("tool_calls", [])]
    assert len(fragments) == 1
    assert fragments[0]["function"] == {"name": "add", "arguments": '{"a": 1}'}


def test_it_sends_reasoning_before_text(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="42", reasoning="thinking hard"))

    deltas = [chunk["choices"][0]["delta"] for chunk in stream_chunks(llm_server)
              if chunk["choices"]]

    keys = [next(iter(delta)) for delta in deltas[1:] if delta]
    assert keys == ["reasoning_content"] * 4 + ["content"]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "thinking hard"


def test_it_sends_usage_in_its_own_chunk_when_asked(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok", usage=(7, 3)))

    chunks = stream_chunks(llm_server, stream_options={"include_usage": True})

    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3,
                                   "total_tokens": 10}
    assert "usage" not in chunks[-2]


def test_it_sends_usage_on_the_last_choice_chunk_unasked(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok", usage=(7, 3)))

    last = stream_chunks(llm_server)[-1]

    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["usage"]["prompt_tokens"] == 7


def test_it_answers_one_completion_without_stream(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="done", tool_calls=[("add", {"a": 1})]))

    response = httpx.post(f"{llm_server.base_url}/chat/completions",
                          json={"model": "llama3", "messages": []})

    body = response.json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["content"] == "done"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "add", "arguments": '{"a": 1}'}
    assert choice["finish_reason"] == "tool_calls"
    assert body["usage"]["total_tokens"] == 30


def test_it_answers_scripted_errors_with_an_error_body(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(status=429, error_message="slow down",
                            headers={"Retry-After": "2"}))

    response = post_stream(llm_server)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"error": {"code": "429", "message": "slow down"}}


def test_it_answers_500_when_the_script_is_exhausted(llm_server: ScriptedLLM) -> None:
    response = post_stream(llm_server)

    assert response.status_code == 500
    assert response.json() == {"error": {"message": "script exhausted"}}


def test_it_records_requests_and_headers_in_order(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="a"), Reply(text="b"))

    post_stream(llm_server, temperature=0.5)
    httpx.post(f"{llm_server.base_url}/chat/completions",
               json={"model": "llama3", "messages": []},
               headers={"Authorization": "Bearer sk-test"})

    assert [body["model"] for body in llm_server.requests] == ["glm-4", "llama3"]
    assert llm_server.requests[0]["temperature"] == 0.5
    assert llm_server.headers[1]["authorization"] == "Bearer sk-test"


def test_it_lists_models(llm_server: ScriptedLLM) -> None:
    body = httpx.get(f"{llm_server.base_url}/models").json()

    assert [model["id"] for model in body["data"]] == llm_server.models
    assert "glm-4" in llm_server.models


def test_it_sleeps_between_chunks_when_slow(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="abcdefgh", chunk_chars=2, chunk_delay=0.05))

    started = time.monotonic()
    chunks = stream_chunks(llm_server)

    assert time.monotonic() - started >= 0.05 * (len(chunks) - 1)


def test_it_starts_fast_and_stops_with_a_stream_in_flight() -> None:
    started = time.monotonic()
    server = ScriptedLLM().start()
    assert time.monotonic() - started < 1.0
    server.script(Reply(text="x" * 100, chunk_chars=1, chunk_delay=0.2))
    with httpx.stream("POST", f"{server.base_url}/chat/completions",
                      json={"model": "glm-4", "messages": [], "stream": True}) as response:
        next(response.iter_lines())
        stopping = time.monotonic()
        server.stop()
    assert time.monotonic() - stopping < 3.0


@pytest.mark.anyio
async def test_it_serves_many_concurrent_streams(llm_server: ScriptedLLM) -> None:
    count = 150
    llm_server.script(*[Reply(text=f"reply {n}", chunk_delay=0.01) for n in range(count)])

    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        responses = await asyncio.gather(*[
            client.post(f"{llm_server.base_url}/chat/completions",
                        json={"model": "glm-4", "messages": [], "stream": True})
            for _ in range(count)
        ])

    texts = set()
    for response in responses:
        chunks = [json.loads(e) for e in sse_events(response.text)[:-1]]
        texts.add("".join(c["choices"][0]["delta"].get("content", "")
                          for c in chunks if c["choices"]))
    assert texts == {f"reply {n}" for n in range(count)}
