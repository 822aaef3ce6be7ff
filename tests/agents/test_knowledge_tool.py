"""An agent with a knowledge base queries it through query_knowledge_base and cites proofs."""

import json

import pytest

from agents.models import ToolExecution
from reasoning import services as reasoning_services
from tests.agents.factories import AgentFactory, ProviderConnectionFactory
from tests.agents.llm_server import Reply
from tests.reasoning.factories import RuleSetFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent(owner, llm_server):
    provider = ProviderConnectionFactory(team=owner.team, base_url=llm_server.base_url)
    knowledge = RuleSetFactory(team=owner.team, name="family")
    reasoning_services.facts_import(rule_set=knowledge, rows=[("parent", ("ann", "cid"))])
    return AgentFactory(team=owner.team, provider=provider, knowledge_base=knowledge)


def _run(api, agent, text):
    response = api.post(f"/api/v1/agents/{agent.pk}/runs", json.dumps({"input": text}),
                        content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_it_offers_the_tool_describing_the_relations(owner, api_client, agent, llm_server):
    llm_server.script(Reply(text="Hi."))
    _run(api_client(owner), agent, "hello")
    tools = {t["function"]["name"]: t["function"] for t in llm_server.requests[0]["tools"]}
    offered = tools["query_knowledge_base"]
    assert "ancestor/2" in offered["description"] and "parent/2" in offered["description"]
    assert offered["parameters"]["required"] == ["query"]


def test_it_answers_from_the_knowledge_base_with_proofs(owner, api_client, agent, llm_server):
    llm_server.script(
        Reply(tool_calls=[("query_knowledge_base", {"query": 'ancestor("tom", X)'})]),
        Reply(text="Tom's descendants are ann, bob and cid; ann descends via bob."))
    body = _run(api_client(owner), agent, "Who descends from Tom?")
    result = body["trace"][0]["tool_calls"][0]["result"]
    assert result.splitlines()[:3] == ["X='ann'", "X='bob'", "X='cid'"]
    assert "Proofs (cite them):" in result
    assert 'ancestor("tom", "ann")   [by rule: ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).]' \
        in result
    assert '    parent("bob", "ann")   [base]' in result
    # The model got exactly this as the tool message it can cite.
    assert llm_server.requests[1]["messages"][-1]["content"] == result
    assert ToolExecution.objects.get().tool_name == "query_knowledge_base"


def test_it_tells_the_model_what_is_wrong_with_its_query(owner, api_client, agent, llm_server):
    llm_server.script(
        Reply(tool_calls=[("query_knowledge_base", {"query": "ancestor(X"})]),
        Reply(text="Sorry."))
    body = _run(api_client(owner), agent, "Who?")
    call = body["trace"][0]["tool_calls"][0]
    assert "line 1, column" in call["error"] and "expected" in call["error"]


def test_it_refuses_another_teams_rule_set(owner, stranger, api_client, agent):
    theirs = RuleSetFactory(team=stranger.team)
    response = api_client(owner).patch(
        f"/api/v1/agents/{agent.pk}", json.dumps({"knowledge_base_id": theirs.pk}),
        content_type="application/json")
    assert response.status_code == 400
    assert "No such rule set" in response.json()["detail"]


def test_it_binds_a_knowledge_base_in_the_agent_form(client, owner, agent):
    other = RuleSetFactory(team=owner.team, name="inventory")
    client.force_login(owner)
    page = client.get(f"/agents/{agent.pk}/edit/").content.decode()
    assert f'<option value="{agent.knowledge_base_id}" selected>family</option>' in page
    response = client.post(f"/agents/{agent.pk}/edit/", {
        "name": agent.name, "provider_id": agent.provider_id, "model_name": "glm-4",
        "max_steps": "8", "knowledge_base_id": str(other.pk)})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.knowledge_base == other
    client.post(f"/agents/{agent.pk}/edit/", {
        "name": agent.name, "provider_id": agent.provider_id, "model_name": "glm-4",
        "max_steps": "8", "knowledge_base_id": ""})
    agent.refresh_from_db()
    assert agent.knowledge_base is None
