"""The OpenAI-compatible provider against the scripted server (real HTTP, real SSE)."""

import asyncio
import base64
import json
import time

import pytest

from agents.providers import ProviderConfigError, openai_compat, provider_for
from agents.providers.base import (
    Completion,
    ImagePart,
    Message,
    ProviderError,
    ProviderEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
)
from agents.providers.openai_compat import OpenAICompatProvider
from agents.providers.profiles import GENERIC, GLM, GLM_BASE_URL, Profile
from tests.agents.llm_server import Reply, ScriptedLLM

pytestmark = pytest.mark.anyio

HELLO = [Message(role="user", content="hello")]
WEATHER = ToolSpec(
    name="get_weather", description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
PNG = b"\x89PNG\r\n\x1a\nnot really a picture"


def make_provider(
    server: ScriptedLLM, *, profile: Profile = GENERIC, timeout: float = 10.0,
    max_retries: int = 3,
) -> OpenAICompatProvider:
    # A tiny backoff keeps retry tests fast; the delays themselves are tested separately.
    return OpenAICompatProvider(server.base_url, "sk-test", profile, timeout=timeout,
                                max_retries=max_retries, backoff=0.01)


async def run(
    provider: OpenAICompatProvider, *, messages: list[Message] = HELLO,
    tools: list[ToolSpec] | None = None, model: str = "llama3", **options: float,
) -> list[ProviderEvent]:
    stream = provider.stream(model=model, messages=messages, tools=tools or [], **options)
    return [event async for event in stream]


def completion_of(events: list[ProviderEvent]) -> Completion:
    assert isinstance(events[-1], Completion)
    assert not any(isinstance(event, Completion) for event in events[:-1])
    return events[-1]


async def test_it_streams_text_in_pieces(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="Bonjour tout le monde", chunk_chars=5))

    events = await run(make_provider(llm_server))

    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert deltas == ["Bonjo", "ur to", "ut le", " mond", "e"]
    completion = completion_of(events)
    assert completion.content == "Bonjour tout le monde"
    assert completion.finish_reason == "stop" and completion.tool_calls == ()


async def test_it_sends_the_bearer_key_and_streams(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok"))

    await run(make_provider(llm_server), model="gpt-4o-mini")

    assert llm_server.headers[0]["authorization"] == "Bearer sk-test"
    body = llm_server.requests[0]
    assert body["model"] == "gpt-4o-mini" and body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert "tools" not in body and "tool_choice" not in body and "temperature" not in body


async def test_it_reassembles_glm_fragmented_tool_calls(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="Let me check.", tool_calls=[
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome", "unit": "celsius"}),
    ]))

    events = await run(make_provider(llm_server, profile=GLM), tools=[WEATHER], model="glm-4")

    completion = completion_of(events)
    assert completion.finish_reason == "tool_calls"
    assert completion.content == "Let me check."
    assert [call.name for call in completion.tool_calls] == ["get_weather", "get_weather"]
    assert [json.loads(call.arguments) for call in completion.tool_calls] == [
        {"city": "Paris"}, {"city": "Rome", "unit": "celsius"}]
    first, second = completion.tool_calls
    assert first.id and second.id and first.id != second.id


async def test_it_takes_whole_tool_calls_too(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("get_weather", {"city": "Oslo"})],
                            fragment_tool_calls=False))

    completion = completion_of(await run(make_provider(llm_server), tools=[WEATHER]))

    assert completion.tool_calls[0].arguments == '{"city": "Oslo"}'


async def test_it_passes_malformed_tool_arguments_through_raw(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(tool_calls=[("get_weather", '{"city": "Par')]))

    completion = completion_of(await run(make_provider(llm_server), tools=[WEATHER]))

    assert completion.tool_calls[0].arguments == '{"city": "Par'


async def test_it_ignores_reasoning_for_the_text(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="42", reasoning="Six times seven is forty-two."))

    events = await run(make_provider(llm_server, profile=GLM), model="glm-4")

    assert [event.text for event in events if isinstance(event, TextDelta)] == ["42"]
    assert completion_of(events).content == "42"


async def test_it_captures_usage_asked_for_generic(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok", usage=(123, 45)))

    completion = completion_of(await run(make_provider(llm_server)))

    assert llm_server.requests[0]["stream_options"] == {"include_usage": True}
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (123, 45)


async def test_it_captures_usage_glm_sends_unasked(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok", usage=(9, 4)))

    completion = completion_of(await run(make_provider(llm_server, profile=GLM), model="glm-4"))

    assert "stream_options" not in llm_server.requests[0]
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (9, 4)


async def test_it_sends_glm_tool_choice_auto(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="ok"), Reply(text="ok"))
    provider = make_provider(llm_server, profile=GLM)

    await run(provider, tools=[WEATHER], model="glm-4")
    await run(provider, model="glm-4")

    with_tools, without_tools = llm_server.requests
    assert with_tools["tool_choice"] == "auto"
    assert with_tools["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": WEATHER.parameters}}]
    assert "tools" not in without_tools and "tool_choice" not in without_tools


@pytest.mark.parametrize(("given", "sent"), [(0.0, 0.01), (1.0, 0.99), (0.5, 0.5), (1.7, 0.99)])
async def test_it_clamps_glm_temperature(llm_server: ScriptedLLM, given: float,
                                         sent: float) -> None:
    llm_server.script(Reply(text="ok"))

    await run(make_provider(llm_server, profile=GLM), model="glm-4", temperature=given)

    assert llm_server.requests[0]["temperature"] == sent


async def test_it_sends_generic_temperature_and_max_tokens_as_given(
    llm_server: ScriptedLLM,
) -> None:
    llm_server.script(Reply(text="ok"))

    await run(make_provider(llm_server), temperature=0.0, max_tokens=64)

    assert llm_server.requests[0]["temperature"] == 0.0
    assert llm_server.requests[0]["max_tokens"] == 64


def image_message() -> list[Message]:
    return [Message(role="user", content="What is this?",
                    images=(ImagePart(data=PNG, mime_type="image/png"),))]


async def test_it_sends_glm_images_as_bare_base64(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="a picture"))

    await run(make_provider(llm_server, profile=GLM), messages=image_message(), model="glm-4v")

    text, image = llm_server.requests[0]["messages"][0]["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert image["type"] == "image_url"
    assert image["image_url"]["url"] == base64.b64encode(PNG).decode()


async def test_it_sends_generic_images_as_data_urls(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="a picture"))

    await run(make_provider(llm_server), messages=image_message())

    _, image = llm_server.requests[0]["messages"][0]["content"]
    assert image["image_url"]["url"] == f"data:image/png;base64,{base64.b64encode(PNG).decode()}"


async def test_it_sends_a_tool_round_trip_in_wire_form(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="Sunny."))
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}')
    messages = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in Paris?"),
        Message(role="assistant", tool_calls=(call,)),
        Message(role="tool", content='{"sky": "clear"}', tool_call_id="call_1"),
    ]

    await run(make_provider(llm_server), messages=messages, tools=[WEATHER])

    assert llm_server.requests[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear"}'},
    ]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_it_does_not_retry_client_errors(llm_server: ScriptedLLM, status: int) -> None:
    llm_server.script(Reply(status=status, error_message="Tool choice must be auto"),
                      Reply(text="never reached"))

    with pytest.raises(ProviderError) as caught:
        await run(make_provider(llm_server))

    assert caught.value.message == "Tool choice must be auto"
    assert caught.value.status == status and caught.value.retryable is False
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_it_retries_rate_limits_and_server_errors(llm_server: ScriptedLLM,
                                                        status: int) -> None:
    llm_server.script(Reply(status=status, error_message="busy"),
                      Reply(status=status, error_message="busy"), Reply(text="at last"))

    events = await run(make_provider(llm_server))

    assert completion_of(events).content == "at last"
    assert len(llm_server.requests) == 3


async def test_it_gives_up_after_max_retries(llm_server: ScriptedLLM) -> None:
    llm_server.script(*[Reply(status=429, error_message="Rate limit reached")] * 3,
                      Reply(text="too late"))

    with pytest.raises(ProviderError) as caught:
        await run(make_provider(llm_server, max_retries=2))

    assert caught.value.status == 429 and caught.value.retryable is True
    assert "Rate limit reached" in caught.value.message
    assert len(llm_server.requests) == 3


async def test_it_honours_retry_after(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(status=429, error_message="wait", headers={"Retry-After": "1"}),
                      Reply(text="ok"))

    started = time.monotonic()
    await run(make_provider(llm_server))

    assert time.monotonic() - started >= 1.0
    assert len(llm_server.requests) == 2


async def test_it_turns_a_stalled_stream_into_a_provider_error(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="slow words", chunk_delay=1.0))

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await run(make_provider(llm_server, timeout=0.2, max_retries=0))

    assert caught.value.retryable is True and caught.value.status == 0
    assert "did not answer" in caught.value.message
    assert time.monotonic() - started < 1.0


async def test_it_retries_a_timeout_before_any_text(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="slow", chunk_delay=1.0), Reply(text="fast"))

    events = await run(make_provider(llm_server, timeout=0.2))

    assert completion_of(events).content == "fast"
    assert len(llm_server.requests) == 2


async def test_it_does_not_retry_once_text_went_out(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="abcdefgh", stall=1.0), Reply(text="never reached"))
    provider = make_provider(llm_server, timeout=0.3)
    events: list[ProviderEvent] = []

    with pytest.raises(ProviderError) as caught:
        async for event in provider.stream(model="llama3", messages=HELLO, tools=[]):
            events.append(event)

    # A retry would repeat the text already shown, so the caller gets to decide.
    assert [event.text for event in events if isinstance(event, TextDelta)] == ["abcd", "efgh"]
    assert caught.value.retryable is True
    assert len(llm_server.requests) == 1


async def test_it_reports_an_unreachable_server() -> None:
    with ScriptedLLM() as server:
        base_url = server.base_url
    provider = OpenAICompatProvider(base_url, "sk-test", GENERIC, max_retries=1, backoff=0.01)

    with pytest.raises(ProviderError) as caught:
        await run(provider)

    assert caught.value.status == 0 and caught.value.retryable is True
    assert "could not reach" in caught.value.message


def test_it_picks_glm_for_glm_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "zhipu-key")
    monkeypatch.delenv("ZHIPUAI_BASE_URL", raising=False)

    provider = provider_for("glm-4v")

    assert provider.profile is GLM
    assert (provider.api_key, provider.base_url) == ("zhipu-key", GLM_BASE_URL)


def test_it_reads_the_glm_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "zhipu-key")
    monkeypatch.setenv("ZHIPUAI_BASE_URL", "https://api.z.ai/api/paas/v4/")

    assert provider_for("glm-4").base_url == "https://api.z.ai/api/paas/v4/"


def test_it_picks_the_generic_server_for_other_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAG_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("OAG_LLM_API_KEY", "ollama")

    provider = provider_for("llama3")

    assert provider.profile is GENERIC
    assert (provider.api_key, provider.base_url) == ("ollama", "http://localhost:11434/v1")


def test_it_lets_explicit_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIPUAI_API_KEY", "from-env")
    monkeypatch.setenv("OAG_LLM_BASE_URL", "http://from-env/v1")
    monkeypatch.setenv("OAG_LLM_API_KEY", "from-env")

    glm = provider_for("glm-4", base_url="http://given/v1", api_key="given")
    generic = provider_for("llama3", base_url="http://given/v1", api_key="given")

    assert (glm.base_url, glm.api_key, glm.profile) == ("http://given/v1", "given", GLM)
    assert (generic.base_url, generic.api_key) == ("http://given/v1", "given")


@pytest.mark.parametrize(("model", "missing", "present"), [
    ("glm-4", "ZHIPUAI_API_KEY", {}),
    ("llama3", "OAG_LLM_BASE_URL", {"OAG_LLM_API_KEY": "k"}),
    ("llama3", "OAG_LLM_API_KEY", {"OAG_LLM_BASE_URL": "http://x/v1"}),
])
def test_it_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch, model: str,
                                       missing: str, present: dict[str, str]) -> None:
    for name in ("ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL", "OAG_LLM_BASE_URL", "OAG_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in present.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ProviderConfigError, match=missing):
        provider_for(model)


async def test_it_streams_through_provider_for(llm_server: ScriptedLLM) -> None:
    llm_server.script(Reply(text="hi"))
    provider = provider_for("glm-4", base_url=llm_server.base_url, api_key="k")

    completion = completion_of(await run(provider, model="glm-4", temperature=0.0))

    assert completion.content == "hi"
    assert llm_server.requests[0]["temperature"] == 0.01


def test_it_reuses_one_client_per_event_loop_and_closes_it_with_the_loop(llm_server):
    llm_server.script(Reply(text="one"), Reply(text="two"))
    provider = OpenAICompatProvider(llm_server.base_url, "k", GENERIC)

    async def two_turns() -> list:
        seen = []
        for _ in range(2):
            async for _event in provider.stream(model="m", messages=[Message(role="user",
                                                content="hi")], tools=[]):
                pass
            held = openai_compat._loop_clients[asyncio.get_running_loop()]
            seen.extend(held.clients.values())
        return seen

    first, second = asyncio.run(two_turns())
    assert first is second  # the second turn did not build (and handshake) a client again
    assert first.is_closed()  # asyncio.run's shutdown closed it: no sockets left behind
    assert len(llm_server.requests) == 2
