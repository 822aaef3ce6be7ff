"""Another team's object is a 404 on every endpoint that takes an id.

Every endpoint of a later issue that reaches a team-owned object joins FOREIGN_ENDPOINTS.
"""

import pytest

from agents.models import AllowedHost
from oagweb.models import Membership
from oagweb.services import api_token_create
from reasoning.services import inference_run_start
from tests.agents.factories import ConversationFactory, ToolFactory
from tests.oagweb.factories import JobFactory
from tests.reasoning.factories import RuleSetFactory

# (method, path template, JSON body): the template is filled from the foreign objects.
FOREIGN_ENDPOINTS = [
    ("get", "/api/v1/teams/{team}", None),
    ("get", "/api/v1/teams/{team}/members", None),
    ("post", "/api/v1/teams/{team}/members", {"username": "{username}"}),
    ("patch", "/api/v1/teams/{team}/members/{membership}", {"role": "viewer"}),
    ("delete", "/api/v1/teams/{team}/members/{membership}", None),
    ("get", "/api/v1/teams/{team}/jobs", None),
    ("post", "/api/v1/jobs/ping", {"team_id": "{team}"}),
    ("get", "/api/v1/jobs/{job}", None),
    ("post", "/api/v1/jobs/{job}/cancel", None),
    ("delete", "/api/v1/tokens/{token}", None),
    # agents
    ("get", "/api/v1/teams/{team}/providers", None),
    ("post", "/api/v1/teams/{team}/providers",
     {"name": "p", "profile": "openai", "base_url": "http://h/v1"}),
    ("get", "/api/v1/providers/{provider}", None),
    ("patch", "/api/v1/providers/{provider}", {"name": "mine now"}),
    ("delete", "/api/v1/providers/{provider}", None),
    ("get", "/api/v1/teams/{team}/tools", None),
    ("post", "/api/v1/teams/{team}/tools", {"kind": "builtin", "target": "calculator"}),
    ("get", "/api/v1/tools/{tool}", None),
    ("patch", "/api/v1/tools/{tool}", {"description": "mine now"}),
    ("delete", "/api/v1/tools/{tool}", None),
    ("get", "/api/v1/teams/{team}/agents", None),
    ("post", "/api/v1/teams/{team}/agents",
     {"name": "a", "provider_id": "{provider}", "model_name": "glm-4"}),
    ("get", "/api/v1/agents/{agent}", None),
    ("patch", "/api/v1/agents/{agent}", {"name": "mine now"}),
    ("delete", "/api/v1/agents/{agent}", None),
    ("post", "/api/v1/agents/{agent}/runs", {"input": "hi"}),
    ("get", "/api/v1/agents/{agent}/conversations", None),
    ("get", "/api/v1/conversations/{conversation}", None),
    ("get", "/api/v1/teams/{team}/allowed-hosts", None),
    ("post", "/api/v1/teams/{team}/allowed-hosts", {"host": "x.example.com"}),
    ("delete", "/api/v1/allowed-hosts/{allowed}", None),
    # reasoning (the multipart facts import is checked in tests/reasoning/test_api.py)
    ("get", "/api/v1/teams/{team}/rule-sets", None),
    ("post", "/api/v1/teams/{team}/rule-sets", {"name": "mine now"}),
    ("get", "/api/v1/rule-sets/{rule_set}", None),
    ("patch", "/api/v1/rule-sets/{rule_set}", {"name": "mine now"}),
    ("delete", "/api/v1/rule-sets/{rule_set}", None),
    ("get", "/api/v1/rule-sets/{rule_set}/versions", None),
    ("post", "/api/v1/rule-sets/{rule_set}/versions", {"source": "p(1)."}),
    ("get", "/api/v1/rule-sets/{rule_set}/versions/1", None),
    ("post", "/api/v1/rule-sets/{rule_set}/validate", {"source": "p(1)."}),
    ("get", "/api/v1/rule-sets/{rule_set}/facts", None),
    ("post", "/api/v1/rule-sets/{rule_set}/facts", [{"relation": "p", "args": [1]}]),
    ("get", "/api/v1/rule-sets/{rule_set}/facts/export", None),
    ("delete", "/api/v1/rule-sets/{rule_set}/facts", None),
    ("get", "/api/v1/rule-sets/{rule_set}/runs", None),
    ("post", "/api/v1/rule-sets/{rule_set}/runs", None),
    ("get", "/api/v1/inference-runs/{run}", None),
    ("get", "/api/v1/inference-runs/{run}/facts", None),
    ("post", "/api/v1/rule-sets/{rule_set}/query", {"query": "p(X)"}),
    ("post", "/api/v1/rule-sets/{rule_set}/explain", {"relation": "p", "args": [1]}),
]


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if filled.isdigit() and value != filled else filled
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.fixture
def foreign_ids(stranger):
    token, _ = api_token_create(user=stranger, name="theirs")
    conversation = ConversationFactory(agent__team=stranger.team)
    rule_set = RuleSetFactory(team=stranger.team)
    return {
        "team": stranger.team.pk,
        "membership": Membership.objects.get(user=stranger).pk,
        "job": JobFactory(team=stranger.team).pk,
        "token": token.pk,
        "username": stranger.username,
        "provider": conversation.agent.provider_id,
        "tool": ToolFactory(team=stranger.team).pk,
        "agent": conversation.agent_id,
        "conversation": conversation.pk,
        "allowed": AllowedHost.objects.create(team=stranger.team, host="h.example.com").pk,
        "rule_set": rule_set.pk,
        "run": inference_run_start(user=stranger, rule_set=rule_set).pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body"), FOREIGN_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in FOREIGN_ENDPOINTS])
def test_it_hides_foreign_objects(owner, api_client, foreign_ids, method, path, body):
    api = api_client(owner)
    kwargs = {"content_type": "application/json", "data": _fill(body, foreign_ids)} if body else {}
    response = getattr(api, method)(_fill(path, foreign_ids), **kwargs)
    assert response.status_code == 404, response.content
    assert response.json()["detail"].startswith("No such")
