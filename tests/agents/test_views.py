import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from agents.models import Agent, AllowedHost, ProviderConnection, Tool, ToolKind
from oagweb.encryption import secret_decrypt
from oagweb.models import Role
from tests.agents.factories import (
    API_KEY,
    AgentFactory,
    ConversationFactory,
    ProviderConnectionFactory,
    ToolFactory,
)
from tests.conftest import member_of
from tests.oagweb.factories import UserFactory

HTMX = {"HX-Request": "true"}
NEW_KEY = "sk-live-9f8e7d6c5b4a3f9a"
HEADER_SECRET = "Bearer s3cr3t-header-value"


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every GET with the path it was asked for."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def echo_site() -> Iterator[str]:
    """A real HTTP server on loopback; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _provider_post(**changes) -> dict:
    return {"name": "Zhipu", "profile": "glm", "base_url": "https://open.bigmodel.cn/api/paas/v4/",
            "model_names": "glm-4-plus, glm-4v-plus", "api_key": NEW_KEY, "api_key_env": "",
            **changes}


def _http_tool_post(**changes) -> dict:
    return {"name": "weather", "description": "Current weather of a city", "http_method": "GET",
            "url_template": "https://api.example.com/weather?city={city}",
            "headers": f"Authorization: {HEADER_SECRET}\nX-Trace: on",
            "parameters": '{"type": "object", "properties": {"city": {"type": "string"}}}',
            "timeout_seconds": "5", **changes}


# ---------------------------------------------------------------- agents

@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_the_login_page(client):
    for url in ("/agents/", "/agents/providers/", "/agents/tools/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.django_db
def test_it_sends_a_user_without_a_team_to_the_team_list(client):
    client.force_login(UserFactory())
    assert client.get("/agents/").url == "/teams/"


@pytest.mark.django_db
def test_it_lists_the_team_agents_with_their_model_provider_tools_and_chat(logged_in, owner):
    agent = AgentFactory(team=owner.team, name="Helper", model_name="glm-4-plus")
    agent.tools.set([ToolFactory(team=owner.team)])
    AgentFactory(name="Someone else's")
    page = logged_in.get("/agents/").content.decode()
    assert "<h3>Helper</h3>" in page and "<code>glm-4-plus</code>" in page
    assert agent.provider.name in page and '<span class="badge">calculator</span>' in page
    assert f'href="/agents/{agent.pk}/chat/"' in page
    assert "Someone else" not in page
    assert 'href="/agents/" aria-current="page"' in page  # the nav link is live


@pytest.mark.django_db
def test_it_says_when_the_team_has_no_provider_connection(logged_in):
    page = logged_in.get("/agents/").content.decode()
    assert 'id="no-provider"' in page and 'href="/agents/providers/"' in page
    assert 'id="agent-form"' not in page


@pytest.mark.django_db
def test_it_creates_an_agent_through_the_form(logged_in, owner):
    connection = ProviderConnectionFactory(team=owner.team, model_names=["glm-4-plus"])
    tool = ToolFactory(team=owner.team)
    page = logged_in.get("/agents/").content.decode()
    assert f'<datalist id="models-{connection.pk}"><option value="glm-4-plus">' in page
    response = logged_in.post("/agents/", {
        "name": "Math tutor", "provider_id": connection.pk, "model_name": "glm-4-plus",
        "system_prompt": "Be brief.", "temperature": "0.3", "max_steps": "4",
        "tool_ids": [tool.pk]}, headers=HTMX)
    assert response.headers["HX-Redirect"] == "/agents/"
    agent = Agent.objects.get(team=owner.team)
    assert (agent.name, agent.model_name, agent.temperature, agent.max_steps) == (
        "Math tutor", "glm-4-plus", 0.3, 4)
    assert list(agent.tools.all()) == [tool]
    assert "Agent Math tutor created." in logged_in.get("/agents/").content.decode()


@pytest.mark.django_db
def test_it_shows_a_service_error_in_the_agent_form_over_htmx(logged_in, owner):
    connection = ProviderConnectionFactory(team=owner.team)
    response = logged_in.post("/agents/", {
        "name": "Runaway", "provider_id": connection.pk, "model_name": "glm-4",
        "max_steps": "99"}, headers=HTMX)
    form = response.content.decode()
    assert response.status_code == 200 and "<html" not in form
    assert form.strip().startswith('<form id="agent-form"')
    assert "max_steps must lie between 1 and 50" in form and 'value="Runaway"' in form
    assert not Agent.objects.exists()


@pytest.mark.django_db
def test_it_answers_a_failed_plain_post_with_the_whole_page_and_422(logged_in, owner):
    ProviderConnectionFactory(team=owner.team)
    response = logged_in.post("/agents/", {"name": "No provider", "model_name": "glm-4"})
    assert response.status_code == 422
    assert "Choose a provider connection." in response.content.decode()
    assert "<html" in response.content.decode()


@pytest.mark.django_db
def test_it_edits_an_agent(logged_in, owner):
    agent = AgentFactory(team=owner.team, name="Old", temperature=0.5)
    tool = ToolFactory(team=owner.team)
    page = logged_in.get(f"/agents/{agent.pk}/edit/").content.decode()
    assert 'value="Old"' in page and 'value="0.5"' in page
    response = logged_in.post(f"/agents/{agent.pk}/edit/", {
        "name": "New", "provider_id": agent.provider_id, "model_name": "glm-4-air",
        "temperature": "", "max_steps": "3", "tool_ids": [tool.pk]})
    assert response.status_code == 302 and response.url == "/agents/"
    agent.refresh_from_db()
    assert (agent.name, agent.model_name, agent.temperature, agent.max_steps) == (
        "New", "glm-4-air", None, 3)
    assert list(agent.tools.all()) == [tool]


@pytest.mark.django_db
def test_it_leaves_an_agent_untouched_when_its_edit_fails(logged_in, owner):
    agent = AgentFactory(team=owner.team, name="Keep")
    agent.tools.set([ToolFactory(team=owner.team)])
    response = logged_in.post(f"/agents/{agent.pk}/edit/", {
        "name": "Changed", "provider_id": agent.provider_id, "model_name": "glm-4",
        "temperature": "7", "max_steps": "3"}, headers=HTMX)
    assert "temperature must lie between 0 and 2" in response.content.decode()
    agent.refresh_from_db()
    assert agent.name == "Keep" and agent.tools.count() == 1


@pytest.mark.django_db
def test_it_deletes_an_agent_over_htmx(logged_in, owner):
    agent = AgentFactory(team=owner.team)
    ConversationFactory(agent=agent)
    response = logged_in.post(f"/agents/{agent.pk}/delete/", headers=HTMX)
    assert response.status_code == 200 and response.content == b""
    assert not Agent.objects.exists()


# ---------------------------------------------------------------- provider connections

@pytest.mark.django_db
def test_it_creates_a_provider_connection_and_never_shows_its_key(logged_in, owner):
    page = logged_in.get("/agents/providers/").content.decode()
    assert 'value="https://open.bigmodel.cn/api/paas/v4/"' in page  # the GLM default
    response = logged_in.post("/agents/providers/", _provider_post(), headers=HTMX)
    assert response.headers["HX-Redirect"] == "/agents/providers/"
    connection = ProviderConnection.objects.get(team=owner.team)
    assert connection.model_names == ["glm-4-plus", "glm-4v-plus"]
    assert secret_decrypt(connection.api_key_encrypted) == NEW_KEY
    pages = [logged_in.get(url).content.decode() for url in
             ("/agents/providers/", f"/agents/providers/{connection.pk}/edit/", "/agents/")]
    assert all(NEW_KEY not in page and NEW_KEY[:-4] not in page for page in pages)
    assert "<code>…3f9a</code>" in pages[0]


@pytest.mark.django_db
def test_it_does_not_echo_the_key_when_the_form_fails(logged_in, owner):
    response = logged_in.post("/agents/providers/", _provider_post(base_url="ftp://nope"),
                              headers=HTMX)
    form = response.content.decode()
    assert "base_url must be an http:// or https:// URL" in form
    assert NEW_KEY not in form and 'value="Zhipu"' in form
    assert not ProviderConnection.objects.exists()


@pytest.mark.django_db
def test_it_keeps_the_stored_key_when_the_key_field_is_left_empty(logged_in, owner):
    connection = ProviderConnectionFactory(team=owner.team)
    response = logged_in.post(f"/agents/providers/{connection.pk}/edit/",
                              _provider_post(name="Renamed", api_key=""))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed" and secret_decrypt(connection.api_key_encrypted) == API_KEY


@pytest.mark.django_db
def test_it_clears_the_key_and_shows_the_env_var_instead(logged_in, owner):
    connection = ProviderConnectionFactory(team=owner.team)
    logged_in.post(f"/agents/providers/{connection.pk}/edit/",
                   _provider_post(api_key="", clear_key="on", api_key_env="ZHIPUAI_API_KEY"))
    connection.refresh_from_db()
    assert connection.api_key_encrypted == "" and connection.api_key_hint == ""
    assert "from $ZHIPUAI_API_KEY" in logged_in.get("/agents/providers/").content.decode()


@pytest.mark.django_db
def test_it_shows_why_a_connection_in_use_cannot_be_deleted(logged_in, owner):
    agent = AgentFactory(team=owner.team, name="Busy")
    response = logged_in.post(f"/agents/providers/{agent.provider_id}/delete/", headers=HTMX)
    row = response.content.decode()
    assert row.strip().startswith(f'<tr class="item" id="provider-{agent.provider_id}">')
    assert "Agents still use this connection: Busy" in row
    assert ProviderConnection.objects.filter(pk=agent.provider_id).exists()


@pytest.mark.django_db
def test_it_deletes_an_unused_connection(logged_in, owner):
    connection = ProviderConnectionFactory(team=owner.team)
    response = logged_in.post(f"/agents/providers/{connection.pk}/delete/", follow=True)
    assert response.redirect_chain == [("/agents/providers/", 302)]
    assert not ProviderConnection.objects.exists()


# ---------------------------------------------------------------- tools

@pytest.mark.django_db
def test_it_offers_the_python_tools_and_an_example_schema(logged_in):
    page = logged_in.get("/agents/tools/").content.decode()
    assert '<option value="calculator"' in page and '<option value="current_time"' in page
    assert "&quot;required&quot;: [&quot;city&quot;]" in page


@pytest.mark.django_db
def test_it_adds_a_builtin_tool(logged_in, owner):
    response = logged_in.post("/agents/tools/python/", {"target": "calculator",
                                                        "timeout_seconds": "10"})
    assert response.status_code == 302
    tool = Tool.objects.get(team=owner.team)
    assert (tool.kind, tool.name, tool.timeout_seconds) == (ToolKind.BUILTIN, "calculator", 10)
    page = logged_in.get("/agents/tools/").content.decode()
    assert '<span class="badge badge-kind-builtin">Built-in</span>' in page


@pytest.mark.django_db
def test_it_shows_the_service_error_for_a_duplicate_tool(logged_in, owner):
    ToolFactory(team=owner.team)
    response = logged_in.post("/agents/tools/python/", {"target": "calculator"}, headers=HTMX)
    form = response.content.decode()
    assert form.strip().startswith('<form id="python-tool-form"')
    assert "The team already has a tool named &#x27;calculator&#x27;" in form
    assert Tool.objects.count() == 1


@pytest.mark.django_db
def test_it_adds_an_http_tool_and_shows_only_its_header_names(logged_in, owner):
    response = logged_in.post("/agents/tools/http/", _http_tool_post(), headers=HTMX)
    assert response.headers["HX-Redirect"] == "/agents/tools/"
    tool = Tool.objects.get(team=owner.team)
    assert (tool.kind, tool.http_method, tool.timeout_seconds) == (ToolKind.HTTP, "GET", 5)
    assert tool.parameters["properties"] == {"city": {"type": "string"}}
    for url in ("/agents/tools/", f"/agents/tools/{tool.pk}/edit/"):
        page = logged_in.get(url).content.decode()
        assert HEADER_SECRET not in page and "s3cr3t" not in page
        assert "Authorization" in page and "X-Trace" in page


@pytest.mark.django_db
def test_it_refuses_a_malformed_header_line_and_bad_parameters(logged_in, owner):
    response = logged_in.post("/agents/tools/http/", _http_tool_post(headers="no colon here"),
                              headers=HTMX)
    assert "Header line 1 must read “Name: value”." in response.content.decode()
    response = logged_in.post("/agents/tools/http/", _http_tool_post(parameters="{oops"),
                              headers=HTMX)
    form = response.content.decode()
    assert "parameters is not valid JSON" in form and HEADER_SECRET not in form
    assert not Tool.objects.exists()


@pytest.mark.django_db
def test_it_edits_an_http_tool_keeping_or_clearing_its_headers(logged_in, owner):
    logged_in.post("/agents/tools/http/", _http_tool_post())
    tool = Tool.objects.get()
    stored = tool.headers_encrypted
    response = logged_in.post(f"/agents/tools/{tool.pk}/edit/",
                              _http_tool_post(headers="", http_method="POST"))
    assert response.status_code == 302
    tool.refresh_from_db()
    assert tool.http_method == "POST" and tool.headers_encrypted == stored
    logged_in.post(f"/agents/tools/{tool.pk}/edit/", _http_tool_post(headers="",
                                                                    clear_headers="on"))
    tool.refresh_from_db()
    assert tool.headers_encrypted == ""


@pytest.mark.django_db
def test_it_edits_a_python_tool(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    assert 'name="target"' not in logged_in.get(f"/agents/tools/{tool.pk}/edit/").content.decode()
    logged_in.post(f"/agents/tools/{tool.pk}/edit/", {
        "name": "calc", "description": "Does sums", "timeout_seconds": "2"})
    tool.refresh_from_db()
    assert (tool.name, tool.description, tool.timeout_seconds) == ("calc", "Does sums", 2)


@pytest.mark.django_db
def test_it_deletes_a_tool(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    response = logged_in.post(f"/agents/tools/{tool.pk}/delete/", headers=HTMX)
    assert response.status_code == 200 and not Tool.objects.exists()


@pytest.mark.django_db
def test_it_tries_the_calculator(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    response = logged_in.post(f"/agents/tools/{tool.pk}/try/",
                              {"arguments": '{"expression": "6*7"}'}, headers=HTMX)
    result = response.content.decode()
    assert response.status_code == 200 and "<html" not in result
    assert '<pre class="code trial-result">42</pre>' in result and " ms</small>" in result


@pytest.mark.django_db
def test_it_shows_an_error_for_bad_json_arguments(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    response = logged_in.post(f"/agents/tools/{tool.pk}/try/", {"arguments": "{6*7"},
                              headers=HTMX)
    result = response.content.decode()
    assert 'class="error"' in result and "are not valid JSON" in result
    assert "Traceback" not in result


@pytest.mark.django_db
def test_it_checks_the_arguments_against_the_schema_and_reports_tool_errors(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    wrong = logged_in.post(f"/agents/tools/{tool.pk}/try/", {"arguments": '{"expr": "1"}'},
                           headers=HTMX).content.decode()
    assert "invalid arguments for" in wrong and "expression" in wrong
    failing = logged_in.post(f"/agents/tools/{tool.pk}/try/", {"arguments":
                             '{"expression": "1/0"}'}, headers=HTMX).content.decode()
    assert "ValueError: division by zero" in failing


@pytest.mark.django_db
def test_it_shows_a_trial_on_the_whole_page_without_htmx(logged_in, owner):
    tool = ToolFactory(team=owner.team)
    page = logged_in.post(f"/agents/tools/{tool.pk}/try/",
                          {"arguments": '{"expression": "2**10"}'}).content.decode()
    assert '<details class="trial" open>' in page and ">1024</pre>" in page


@pytest.mark.django_db
def test_it_tries_an_http_tool_on_an_allow_listed_host(logged_in, owner, echo_site):
    logged_in.post("/agents/tools/http/", _http_tool_post(
        url_template=f"{echo_site}/weather?city={{city}}"))
    tool = Tool.objects.get()
    arguments = {"arguments": '{"city": "Beijing"}'}
    refused = logged_in.post(f"/agents/tools/{tool.pk}/try/", arguments,
                             headers=HTMX).content.decode()
    assert 'class="error"' in refused and "allow-list" in refused
    AllowedHost.objects.create(team=owner.team, host="127.0.0.1")
    result = logged_in.post(f"/agents/tools/{tool.pk}/try/", arguments,
                            headers=HTMX).content.decode()
    assert "/weather?city=Beijing" in result and 'class="error"' not in result


@pytest.mark.django_db
def test_it_reports_a_python_tool_that_is_no_longer_installed(logged_in, owner):
    tool = ToolFactory(team=owner.team, name="gone", target="gone")
    result = logged_in.post(f"/agents/tools/{tool.pk}/try/", {"arguments": "{}"},
                            headers=HTMX).content.decode()
    assert "No Python tool named &#x27;gone&#x27;" in result


# ---------------------------------------------------------------- access

@pytest.mark.django_db
def test_it_shows_viewers_read_only_pages(client, owner):
    AgentFactory(team=owner.team)
    ToolFactory(team=owner.team)
    client.force_login(member_of(owner.team, Role.VIEWER))
    for url in ("/agents/", "/agents/providers/", "/agents/tools/"):
        page = client.get(url).content.decode()
        assert "Viewers have read-only access to this team." in page
        assert "<form" not in page.split("<main", 1)[1]


@pytest.mark.django_db
def test_it_forbids_viewers_to_write(client, owner):
    agent = AgentFactory(team=owner.team)
    tool = ToolFactory(team=owner.team)
    client.force_login(member_of(owner.team, Role.VIEWER))
    posts = ["/agents/", f"/agents/{agent.pk}/edit/", f"/agents/{agent.pk}/delete/",
             "/agents/providers/", f"/agents/providers/{agent.provider_id}/edit/",
             f"/agents/providers/{agent.provider_id}/delete/", "/agents/tools/python/",
             "/agents/tools/http/", f"/agents/tools/{tool.pk}/edit/",
             f"/agents/tools/{tool.pk}/delete/", f"/agents/tools/{tool.pk}/try/"]
    for url in posts:
        assert client.post(url, {"name": "x", "target": "calculator"}).status_code == 403, url
    assert Agent.objects.get() == agent and Tool.objects.get() == tool
    assert ProviderConnection.objects.count() == 1


@pytest.mark.django_db
def test_it_hides_another_teams_objects(logged_in, stranger):
    agent = AgentFactory(team=stranger.team)
    tool = ToolFactory(team=stranger.team)
    urls = [f"/agents/{agent.pk}/edit/", f"/agents/{agent.pk}/delete/",
            f"/agents/providers/{agent.provider_id}/edit/",
            f"/agents/providers/{agent.provider_id}/delete/", f"/agents/tools/{tool.pk}/edit/",
            f"/agents/tools/{tool.pk}/delete/", f"/agents/tools/{tool.pk}/try/"]
    for url in urls:
        assert logged_in.post(url, {"arguments": "{}"}).status_code == 404, url
    assert logged_in.get(f"/agents/{agent.pk}/edit/").status_code == 404
    assert Agent.objects.filter(pk=agent.pk).exists() and Tool.objects.filter(pk=tool.pk).exists()


# ---------------------------------------------------------------- language

@pytest.mark.django_db
def test_it_renders_the_agents_page_in_chinese(logged_in, owner):
    ProviderConnectionFactory(team=owner.team)
    page = logged_in.get("/agents/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "<h1>智能体</h1>" in page and "创建智能体" in page


@pytest.mark.django_db
def test_it_follows_the_language_cookie(logged_in):
    logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = logged_in.get("/agents/tools/").content.decode()
    assert "<h1>工具</h1>" in page
