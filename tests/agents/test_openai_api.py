"""The OpenAI-compatible API, driven by the official `openai` client against a real daphne.

daphne runs in a subprocess on the test database, so every test commits its data
(`transaction=True`); the scripted LLM runs in this process and daphne reaches it on loopback.
"""

from collections.abc import Callable, Iterator

import openai
import pytest
from openai import OpenAI

from agents.models import Agent, Conversation, Message
from oagweb.models import Role
from oagweb.services import api_token_create
from tests.agents.factories import AgentFactory, ProviderConnectionFactory, ToolFactory
from tests.agents.llm_server import Reply, ScriptedLLM
from tests.conftest import member_of
from tests.oagweb.factories import MembershipFactory, TeamFactory
from tests.stack import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)

ClientFor = Callable[..., OpenAI]


@pytest.fixture(scope="module")
def server(django_db_setup: None) -> Iterator[str]:
    # Module scope: starting daphne costs seconds; the data it serves is per test.
    with daphne_server() as url:
        yield url


@pytest.fixture
def client_for(server: str) -> ClientFor:
    """`client_for(user)`: an OpenAI client using a fresh API token of `user` (or `key`)."""

    def make(user: object = None, *, key: str = "") -> OpenAI:
        raw = key or api_token_create(user=user, name="openai")[1]
        # No retries: a 502 must reach the test once, and the script be used once.
        return OpenAI(base_url=f"{server}/api/v1/openai", api_key=raw, max_retries=0,
                      timeout=30)

    return make


def _agent(team: object, llm_server: ScriptedLLM, slug: str = "helper") -> Agent:
    provider = ProviderConnectionFactory(team=team, base_url=llm_server.base_url)
    agent = AgentFactory(team=team, provider=provider, slug=slug, system_prompt="Be brief.")
    agent.tools.add(ToolFactory(team=team))
    return agent


@pytest.fixture
def agent(owner: object, llm_server: ScriptedLLM) -> Agent:
    return _agent(owner.team, llm_server)


def test_it_lists_the_agents_of_my_teams_as_models(owner, stranger, agent, llm_server,
                                                    client_for):
    _agent(stranger.team, llm_server, slug="theirs")
    client = client_for(owner)
    models = list(client.models.list())
    assert [model.id for model in models] == ["helper"]
    assert models[0].owned_by == owner.team.slug and models[0].object == "model"
    assert client.models.retrieve("helper").id == "helper"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("theirs")


def test_it_qualifies_a_slug_two_of_my_teams_share(owner, agent, llm_server, client_for):
    other_team = TeamFactory(slug="other")
    MembershipFactory(team=other_team, user=owner, role=Role.MEMBER)
    _agent(other_team, llm_server)
    client = client_for(owner)
    ids = sorted(model.id for model in client.models.list())
    assert ids == sorted([f"{owner.team.slug}/helper", "other/helper"])
    with pytest.raises(openai.NotFoundError, match="ambiguous"):
        client.chat.completions.create(model="helper",
                                       messages=[{"role": "user", "content": "hi"}])
    llm_server.script(Reply(text="Hello from other."))
    completion = client.chat.completions.create(model="other/helper",
                                                messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == "Hello from other."
    assert Conversation.objects.get().agent.team == other_team


def test_it_answers_through_a_tool_call_with_usage(owner, agent, llm_server, client_for):
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "6*7"})]),
                      Reply(text="The answer is 42."))
    completion = client_for(owner).chat.completions.create(
        model="helper", messages=[{"role": "user", "content": "What is 6*7?"}],
        temperature=0.2, max_tokens=100)
    assert completion.id.startswith("chatcmpl-") and completion.object == "chat.completion"
    assert completion.model == "helper"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == "The answer is 42."
    assert choice.finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens,
            completion.usage.total_tokens) == (20, 40, 60)
    # The tool ran on the server: its result went back to the model, not to the client.
    assert llm_server.requests[1]["messages"][-1] == {
        "role": "tool", "content": "42", "tool_call_id": "call_1_0"}
    conversation = Conversation.objects.get()
    assert conversation.created_by == owner and conversation.title == "What is 6*7?"
    roles = list(conversation.messages.values_list("role", flat=True))
    assert roles == ["user", "assistant", "tool", "assistant"]


def test_it_streams_the_answer_as_chunks(owner, agent, llm_server, client_for):
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "2+2"})]),
                      Reply(text="Four, as computed.", chunk_chars=3))
    stream = client_for(owner).chat.completions.create(
        model="helper", messages=[{"role": "user", "content": "2+2?"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta]
    assert len([d for d in deltas if d]) > 2 and "".join(d or "" for d in deltas) == (
        "Four, as computed.")
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 60
    assert Message.objects.filter(role="assistant", content="Four, as computed.").exists()


def test_it_passes_the_history_to_the_provider(owner, agent, llm_server, client_for):
    llm_server.script(Reply(text="Ada."))
    messages = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "I am Ada"},
        {"role": "assistant", "content": "Hello Ada."},
        {"role": "user", "content": [{"type": "text", "text": "Who "},
                                     {"type": "text", "text": "am I?"}]},
    ]
    completion = client_for(owner).chat.completions.create(model="helper", messages=messages)
    assert completion.choices[0].message.content == "Ada."
    sent = [(m["role"], m["content"]) for m in llm_server.requests[0]["messages"]]
    assert sent == [("system", "Be brief."), ("system", "Answer in one word."),
                    ("user", "I am Ada"), ("assistant", "Hello Ada."), ("user", "Who am I?")]
    conversation = Conversation.objects.get()
    assert conversation.title == "I am Ada"
    assert conversation.messages.count() == 5


def test_it_refuses_an_unknown_model(owner, agent, client_for):
    with pytest.raises(openai.NotFoundError) as caught:
        client_for(owner).chat.completions.create(
            model="nobody", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"
    assert caught.value.body["type"] == "invalid_request_error"
    assert "'nobody' does not exist" in caught.value.body["message"]


def test_it_refuses_a_bad_token(agent, client_for):
    with pytest.raises(openai.AuthenticationError) as caught:
        client_for(key="not-a-token").models.list()
    assert caught.value.code == "invalid_api_key"
    assert caught.value.body["message"] == "Invalid API token"


def test_it_refuses_a_viewer(owner, agent, llm_server, client_for):
    viewer = client_for(member_of(owner.team, Role.VIEWER))
    assert [model.id for model in viewer.models.list()] == ["helper"]
    with pytest.raises(openai.PermissionDeniedError):
        viewer.chat.completions.create(model="helper",
                                       messages=[{"role": "user", "content": "hi"}])
    assert not llm_server.requests and not Conversation.objects.exists()


@pytest.mark.parametrize(("messages", "says"), [
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello."}],
     "The last message must be a non-empty user message"),
    ([{"role": "tool", "content": "42", "tool_call_id": "c1"}], "messages.0.role"),
    ([], "messages: List should have at least 1 item"),
])
def test_it_rejects_a_bad_body(owner, agent, llm_server, client_for, messages, says):
    with pytest.raises(openai.BadRequestError) as caught:
        client_for(owner).chat.completions.create(model="helper", messages=messages)
    assert says in caught.value.body["message"]
    assert set(caught.value.body) == {"message", "type", "param", "code"}
    assert not llm_server.requests and not Conversation.objects.exists()


@pytest.mark.parametrize("stream", [False, True])
def test_it_reports_a_provider_refusal_as_bad_gateway(owner, agent, llm_server, client_for,
                                                      stream):
    llm_server.script(Reply(status=401, error_message="invalid key"))
    with pytest.raises(openai.APIStatusError) as caught:
        client_for(owner).chat.completions.create(
            model="helper", messages=[{"role": "user", "content": "hi"}], stream=stream)
    assert caught.value.status_code == 502 and caught.value.code == "provider_error"
    assert "HTTP 401" in caught.value.message and "invalid key" in caught.value.message
    assert len(llm_server.requests) == 1


def test_it_reports_a_provider_failure_after_the_stream_began(owner, agent, llm_server,
                                                              client_for):
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "1+1"})]),
                      Reply(status=400, error_message="context too long"))
    stream = client_for(owner).chat.completions.create(
        model="helper", messages=[{"role": "user", "content": "1+1?"}], stream=True)
    with pytest.raises(openai.APIError, match="context too long"):
        list(stream)


def test_it_answers_unknown_paths_in_openai_shape(owner, client_for):
    with pytest.raises(openai.NotFoundError) as caught:
        client_for(owner).embeddings.create(model="helper", input="hi")
    assert caught.value.code == "unknown_url"
