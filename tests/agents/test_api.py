"""The agents REST API: provider connections, tools, agents, runs (JSON and SSE)."""

import json

import pytest
from asgiref.sync import async_to_sync

from agents.models import AllowedHost, Conversation, Message, ProviderConnection, ToolExecution
from oagweb.models import Role
from tests.agents.factories import API_KEY, AgentFactory, ProviderConnectionFactory, ToolFactory
from tests.agents.llm_server import Reply
from tests.conftest import member_of

JSON = "application/json"
pytestmark = pytest.mark.django_db


async def _read(response) -> bytes:
    return b"".join([chunk async for chunk in response.streaming_content])


def _post(api, url, body, **headers):
    return api.post(url, json.dumps(body), content_type=JSON, headers=headers)


@pytest.fixture
def agent(owner, llm_server):
    provider = ProviderConnectionFactory(team=owner.team, base_url=llm_server.base_url)
    agent = AgentFactory(team=owner.team, provider=provider, system_prompt="Be brief.")
    agent.tools.add(ToolFactory(team=owner.team))
    return agent


def test_it_creates_a_provider_connection_and_never_shows_its_key(owner, api_client):
    api = api_client(owner)
    body = {"name": "zhipu", "profile": "glm", "base_url": "https://open.bigmodel.cn/api/paas/v4/",
            "model_names": ["glm-4", "glm-4v", "glm-4"], "api_key": API_KEY}
    response = _post(api, f"/api/v1/teams/{owner.team.pk}/providers", body)
    assert response.status_code == 201, response.content
    assert API_KEY not in response.content.decode()
    assert response.json()["api_key_hint"] == "…" + API_KEY[-4:]
    assert response.json()["model_names"] == ["glm-4", "glm-4v"]
    stored = ProviderConnection.objects.get(pk=response.json()["id"])
    assert API_KEY not in stored.api_key_encrypted  # encrypted at rest
    listed = api.get(f"/api/v1/teams/{owner.team.pk}/providers").content.decode()
    assert API_KEY not in listed


@pytest.mark.parametrize(("body", "says"), [
    ({"base_url": "ftp://x"}, "base_url must be an http:// or https:// URL"),
    ({"name": "  "}, "needs a name"),
    ({"api_key_env": "not a var"}, "api_key_env must be an environment variable name"),
])
def test_it_rejects_a_bad_provider_connection(owner, api_client, body, says):
    full = {"name": "p", "profile": "openai", "base_url": "http://h/v1", **body}
    response = _post(api_client(owner), f"/api/v1/teams/{owner.team.pk}/providers", full)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert not ProviderConnection.objects.exists()


def test_it_refuses_a_duplicate_name_with_409(owner, api_client):
    ProviderConnectionFactory(team=owner.team, name="dup")
    body = {"name": "dup", "profile": "openai", "base_url": "http://h/v1"}
    response = _post(api_client(owner), f"/api/v1/teams/{owner.team.pk}/providers", body)
    assert response.status_code == 409


def test_it_keeps_a_provider_in_use(owner, api_client, agent):
    response = api_client(owner).delete(f"/api/v1/providers/{agent.provider_id}")
    assert response.status_code == 409
    assert agent.name in response.json()["detail"]


def test_it_lets_viewers_read_but_not_write(owner, api_client, agent):
    api = api_client(member_of(owner.team, Role.VIEWER))
    assert api.get(f"/api/v1/agents/{agent.pk}").status_code == 200
    response = _post(api, f"/api/v1/agents/{agent.pk}/runs", {"input": "hi"})
    assert response.status_code == 403


def test_it_adds_builtin_and_http_tools(owner, api_client):
    api = api_client(owner)
    names = {tool["name"] for tool in api.get("/api/v1/python-tools").json()}
    assert {"calculator", "current_time"} <= names
    builtin = _post(api, f"/api/v1/teams/{owner.team.pk}/tools",
                    {"kind": "builtin", "target": "calculator"})
    assert builtin.status_code == 201, builtin.content
    assert builtin.json()["parameters"]["properties"]["expression"]["type"] == "string"
    http = {"kind": "http", "name": "weather", "description": "Weather of a city",
            "http_method": "get", "url_template": "https://api.example.com/w/{city}",
            "headers": {"X-Key": "hush-hush"},
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}
    created = _post(api, f"/api/v1/teams/{owner.team.pk}/tools", http)
    assert created.status_code == 201, created.content
    assert created.json()["has_headers"] is True and "hush-hush" not in created.content.decode()
    assert created.json()["http_method"] == "GET"


@pytest.mark.parametrize(("body", "says"), [
    ({"kind": "builtin", "target": "rm_rf"}, "No Python tool named 'rm_rf'"),
    ({"kind": "http", "name": "bad name!", "description": "d", "http_method": "GET",
      "url_template": "https://x/"}, "A tool name has"),
    ({"kind": "http", "name": "t", "description": "d", "http_method": "GET",
      "url_template": "https://x/", "parameters": {"type": "array"}}, '"type": "object"'),
    ({"kind": "http", "name": "t", "description": "d", "http_method": "GET",
      "url_template": "https://x/",
      "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}, "not a valid JSON"),
])
def test_it_rejects_a_bad_tool(owner, api_client, body, says):
    response = _post(api_client(owner), f"/api/v1/teams/{owner.team.pk}/tools", body)
    assert response.status_code == 400, response.content
    assert says in response.json()["detail"]


def test_it_creates_an_agent_only_with_its_teams_provider_and_tools(owner, stranger, api_client):
    mine = ProviderConnectionFactory(team=owner.team)
    theirs = ProviderConnectionFactory(team=stranger.team)
    their_tool = ToolFactory(team=stranger.team)
    api = api_client(owner)
    url = f"/api/v1/teams/{owner.team.pk}/agents"
    body = {"name": "Helper Bot", "provider_id": mine.pk, "model_name": "glm-4"}
    created = _post(api, url, body)
    assert created.status_code == 201 and created.json()["slug"] == "helper-bot"
    assert _post(api, url, {**body, "slug": "x", "provider_id": theirs.pk}).status_code == 400
    with_tool = _post(api, url, {**body, "slug": "y", "tool_ids": [their_tool.pk]})
    assert with_tool.status_code == 400 and "No such tool" in with_tool.json()["detail"]
    assert _post(api, url, body).status_code == 409  # the slug is taken


def test_it_runs_an_agent_with_a_tool_and_persists_the_conversation(owner, api_client, agent,
                                                                    llm_server):
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "6*7"})]),
                      Reply(text="The answer is 42."))
    response = _post(api_client(owner), f"/api/v1/agents/{agent.pk}/runs",
                     {"input": "What is 6*7?"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["answer"] == "The answer is 42."
    call = body["trace"][0]["tool_calls"][0]
    assert call["name"] == "calculator" and call["result"] == "42" and call["error"] is None
    assert body["usage"] == {"prompt_tokens": 20, "completion_tokens": 40}
    # The tool's result went back to the model with the call's id.
    second = llm_server.requests[1]["messages"]
    assert second[0] == {"role": "system", "content": "Be brief."}
    assert second[-1]["role"] == "tool" and second[-1]["content"] == "42"
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    roles = list(conversation.messages.values_list("role", flat=True))
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert conversation.title == "What is 6*7?"
    execution = ToolExecution.objects.get(conversation=conversation)
    assert execution.arguments == {"expression": "6*7"} and execution.result == "42"


def test_it_continues_a_conversation_with_its_history(owner, api_client, agent, llm_server):
    llm_server.script(Reply(text="Hello Ada."), Reply(text="You are Ada."))
    api = api_client(owner)
    first = _post(api, f"/api/v1/agents/{agent.pk}/runs", {"input": "I am Ada"}).json()
    second = _post(api, f"/api/v1/agents/{agent.pk}/runs",
                   {"input": "Who am I?", "conversation_id": first["conversation_id"]})
    assert second.json()["answer"] == "You are Ada."
    sent = [m["content"] for m in llm_server.requests[1]["messages"]]
    assert sent == ["Be brief.", "I am Ada", "Hello Ada.", "Who am I?"]
    detail = api.get(f"/api/v1/conversations/{first['conversation_id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]


def test_it_streams_a_run_as_server_sent_events(owner, api_client, agent, llm_server):
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "2+2"})]),
                      Reply(text="Four, as computed.", chunk_chars=3))
    response = _post(api_client(owner), f"/api/v1/agents/{agent.pk}/runs", {"input": "2+2?"},
                     Accept="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    frames = async_to_sync(_read)(response).decode().strip().split("\n\n")
    events = [(f.split("\n")[0].removeprefix("event: "),
               json.loads(f.split("\n")[1].removeprefix("data: "))) for f in frames]
    names = [name for name, _ in events]
    assert names[0] == "Conversation" and names[-1] == "FinalAnswer"
    assert names.index("ToolCallStarted") < names.index("ToolCallFinished")
    tokens = [data["text"] for name, data in events if name == "TokenDelta"]
    assert len(tokens) > 2 and "".join(tokens) == "Four, as computed."
    assert events[-1][1]["text"] == "Four, as computed."


@pytest.mark.parametrize(("status", "message"), [(400, "bad model name"), (401, "invalid key")])
def test_it_reports_a_provider_refusal_as_bad_gateway(owner, api_client, agent, llm_server,
                                                      status, message):
    llm_server.script(Reply(status=status, error_message=message))
    response = _post(api_client(owner), f"/api/v1/agents/{agent.pk}/runs", {"input": "hi"})
    assert response.status_code == 502
    assert message in response.json()["detail"] and f"HTTP {status}" in response.json()["detail"]
    assert len(llm_server.requests) == 1  # refused requests are not retried
    # The question is kept even though the model never answered.
    assert Message.objects.filter(role="user", content="hi").exists()


def test_it_refuses_an_empty_message(owner, api_client, agent):
    response = _post(api_client(owner), f"/api/v1/agents/{agent.pk}/runs", {"input": "  "})
    assert response.status_code == 400
    assert "empty" in response.json()["detail"]


def test_it_lets_owners_and_admins_allow_list_hosts(owner, api_client):
    url = f"/api/v1/teams/{owner.team.pk}/allowed-hosts"
    added = _post(api_client(owner), url, {"host": " Intranet.Example.COM. "})
    assert added.status_code == 201 and added.json()["host"] == "intranet.example.com"
    assert _post(api_client(owner), url, {"host": "[::1]"}).json()["host"] == "::1"
    assert _post(api_client(owner), url, {"host": "intranet.example.com"}).status_code == 409
    bad = _post(api_client(owner), url, {"host": "not a host"})
    assert bad.status_code == 400 and "not a host name" in bad.json()["detail"]
    member = api_client(member_of(owner.team, Role.MEMBER))
    assert _post(member, url, {"host": "x.example.com"}).status_code == 403
    assert member.delete(f"/api/v1/allowed-hosts/{added.json()['id']}").status_code == 403
    removed = api_client(owner).delete(f"/api/v1/allowed-hosts/{added.json()['id']}")
    assert removed.status_code == 204


@pytest.mark.parametrize("allowed", [False, True])
def test_it_reaches_a_private_host_only_when_the_team_allows_it(owner, api_client, agent,
                                                                llm_server, allowed):
    tool = ToolFactory(team=owner.team, name="models", kind="http", target="",
                       http_method="GET", url_template=f"{llm_server.base_url}/models",
                       parameters={"type": "object", "properties": {}})
    agent.tools.add(tool)
    if allowed:
        AllowedHost.objects.create(team=owner.team, host="127.0.0.1")
    llm_server.script(Reply(tool_calls=[("models", {})]), Reply(text="Listed."))
    body = _post(api_client(owner), f"/api/v1/agents/{agent.pk}/runs", {"input": "list"}).json()
    call = body["trace"][0]["tool_calls"][0]
    if allowed:
        assert call["error"] is None and call["result"].startswith("HTTP 200")
        assert "glm-4" in call["result"]
    else:
        assert "loopback" in call["error"] and "allow-list" in call["error"]
    assert llm_server.requests[1]["messages"][-1]["content"] == call["result"]
