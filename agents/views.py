"""Pages of the agents app: a team's agents, provider connections and tools."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents import selectors, services, tool_trials
from agents.catalog import BUILTIN_TOOLS, python_tools
from agents.models import Agent, ProviderConnection, ProviderProfile, Tool, ToolKind
from agents.providers.profiles import GLM_BASE_URL
from agents.services import HTTP_METHODS, MAX_STEPS_LIMIT
from oagweb.context import current_membership
from oagweb.errors import ApplicationError
from oagweb.models import WRITE_ROLES, Membership, Team
from oagweb.selectors import team_access_check, team_get_for_user
from oagweb.views import HtmxHttpRequest
from reasoning.selectors import rule_set_list

HTTP_PARAMETERS_EXAMPLE = """{
  "type": "object",
  "properties": {
    "city": {"type": "string", "description": "The city, e.g. Beijing"}
  },
  "required": ["city"]
}"""
# What a JSON Schema type looks like empty, to pre-fill a tool's "Try it" arguments.
_EMPTY_VALUES = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [],
                 "object": {}}


# ---------------------------------------------------------------- shared

def _no_team(request: HtmxHttpRequest) -> HttpResponse:
    messages.info(request, _("Create a team to get started."))
    return redirect("team_list")


def _team_context(membership: Membership) -> dict[str, Any]:
    return {"team": membership.team, "can_write": membership.role in WRITE_ROLES}


def _writable_team(request: HtmxHttpRequest, membership: Membership) -> Team:
    return team_get_for_user(user=request.user, id=membership.team_id, write=True)


def _form_page(request: HtmxHttpRequest, template: str, partial: str, context: dict[str, Any],
               *, failed: bool) -> HttpResponse:
    """The page; for an htmx post only the form (`partial`), showing its error in place.

    htmx 2 does not swap a 4xx answer, so the htmx form comes back as 200; a plain post that
    failed gets the whole page as 422."""
    if request.method == "POST" and request.htmx:
        return render(request, partial, context)
    return render(request, template, context, status=422 if failed else 200)


def _saved(request: HtmxHttpRequest, message: str, url_name: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(reverse(url_name))
    return redirect(url_name)


def _deleted(request: HtmxHttpRequest, url_name: str) -> HttpResponse:
    """For htmx an empty answer, which removes the deleted item from the page."""
    if request.htmx:
        return HttpResponse()
    messages.success(request, _("Deleted."))
    return redirect(url_name)


def _integer(value: str, *, label: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ApplicationError(_("%(field)s must be a whole number.") % {"field": label}) from None


def _decimal(value: str | None, *, label: str) -> float | None:
    """A number, or None when the field is left empty."""
    if not (value or "").strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ApplicationError(_("%(field)s must be a number.") % {"field": label}) from None


# ---------------------------------------------------------------- agents

def _agent_form(post: QueryDict | None = None, agent: Agent | None = None) -> dict[str, Any]:
    """The form's values: posted, else the agent's, else the defaults."""
    if post is not None:
        values = {key: post.get(key, "") for key in
                  ("name", "provider_id", "model_name", "system_prompt", "temperature",
                   "max_steps")}
        return values | {"tool_ids": {int(v) for v in post.getlist("tool_ids") if v.isdigit()},
                         "knowledge_base_id": post.get("knowledge_base_id", "")}
    if agent is not None:
        return {"name": agent.name, "provider_id": str(agent.provider_id),
                "model_name": agent.model_name, "system_prompt": agent.system_prompt,
                "temperature": "" if agent.temperature is None else agent.temperature,
                "max_steps": agent.max_steps, "tool_ids": {t.pk for t in agent.tools.all()},
                "knowledge_base_id": str(agent.knowledge_base_id or "")}
    return {"max_steps": Agent._meta.get_field("max_steps").default, "tool_ids": set()}


def _agent_fields(post: QueryDict) -> dict[str, Any]:
    if not post.get("provider_id", "").isdigit():
        raise ApplicationError(_("Choose a provider connection."))
    fields = {
        "name": post.get("name", ""),
        "provider_id": int(post["provider_id"]),
        "model_name": post.get("model_name", ""),
        "system_prompt": post.get("system_prompt", ""),
        "temperature": _decimal(post.get("temperature"), label=_("Temperature")),
        "tool_ids": sorted(_agent_form(post)["tool_ids"]),
        "knowledge_base_id": _integer(post["knowledge_base_id"], label=_("Knowledge base"))
        if post.get("knowledge_base_id", "").strip() else None,
    }
    if post.get("max_steps", "").strip():
        fields["max_steps"] = _integer(post["max_steps"], label=_("Max steps"))
    return fields


def _agent_form_context(team: Team, form: dict[str, Any]) -> dict[str, Any]:
    return {"connections": selectors.provider_connection_list(team=team),
            "tools": selectors.tool_list(team=team), "form": form,
            "rule_sets": rule_set_list(team=team),
            "max_steps_limit": MAX_STEPS_LIMIT}


@login_required
@require_http_methods(["GET", "POST"])
def agent_list_page(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return _no_team(request)
    form, error = _agent_form(), None
    if request.method == "POST":
        team = _writable_team(request, membership)
        try:
            agent = services.agent_create(team=team, **_agent_fields(request.POST))
        except ApplicationError as exc:
            form, error = _agent_form(request.POST), exc.message
        else:
            return _saved(request, _("Agent %(name)s created.") % {"name": agent.name},
                          "agent_list")
    context = {**_team_context(membership), **_agent_form_context(membership.team, form),
               "agents": selectors.agent_list(team=membership.team), "error": error}
    return _form_page(request, "agents/agents.html", "agents/agents.html#agent-form", context,
                      failed=error is not None)


@login_required
@require_http_methods(["GET", "POST"])
def agent_edit_page(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = selectors.agent_get_for_user(user=request.user, id=agent_id, write=True)
    form, error = _agent_form(agent=agent), None
    if request.method == "POST":
        try:
            services.agent_update(agent=agent, **_agent_fields(request.POST))
        except ApplicationError as exc:
            form, error = _agent_form(request.POST), exc.message
        else:
            return _saved(request, _("Agent %(name)s saved.") % {"name": agent.name},
                          "agent_list")
    context = {"team": agent.team, "can_write": True, "edit_agent": agent, "error": error,
               **_agent_form_context(agent.team, form)}
    return _form_page(request, "agents/agent_edit.html", "agents/agents.html#agent-form",
                      context, failed=error is not None)


@login_required
@require_POST
def agent_delete_page(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    agent = selectors.agent_get_for_user(user=request.user, id=agent_id, write=True)
    services.agent_delete(agent=agent)
    return _deleted(request, "agent_list")


# ---------------------------------------------------------------- provider connections

def _provider_form(post: QueryDict | None = None,
                   connection: ProviderConnection | None = None) -> dict[str, Any]:
    """The form's values, never the API key: a failed post does not echo it back."""
    if post is not None:
        return {key: post.get(key, "") for key in
                ("name", "profile", "base_url", "model_names", "api_key_env")}
    if connection is not None:
        return {"name": connection.name, "profile": connection.profile,
                "base_url": connection.base_url,
                "model_names": ", ".join(connection.model_names),
                "api_key_env": connection.api_key_env}
    return {"profile": ProviderProfile.GLM, "base_url": GLM_BASE_URL}


def _provider_fields(post: QueryDict, *, editing: bool) -> dict[str, Any]:
    names = post.get("model_names", "").replace("\n", ",").split(",")
    key = post.get("api_key", "").strip()
    if editing and post.get("clear_key"):
        api_key: str | None = ""
    else:
        api_key = key or None  # None keeps the stored key (or stores none)
    return {"name": post.get("name", ""), "profile": post.get("profile", ""),
            "base_url": post.get("base_url", ""), "model_names": names,
            "api_key": api_key, "api_key_env": post.get("api_key_env", "")}


def _provider_form_context(form: dict[str, Any]) -> dict[str, Any]:
    return {"form": form, "profiles": ProviderProfile.choices, "glm_base_url": GLM_BASE_URL}


@login_required
@require_http_methods(["GET", "POST"])
def provider_list_page(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return _no_team(request)
    form, error = _provider_form(), None
    if request.method == "POST":
        team = _writable_team(request, membership)
        try:
            connection = services.provider_connection_create(
                team=team, **_provider_fields(request.POST, editing=False))
        except ApplicationError as exc:
            form, error = _provider_form(request.POST), exc.message
        else:
            return _saved(request, _("Provider connection %(name)s created.")
                          % {"name": connection.name}, "provider_list")
    context = {**_team_context(membership), **_provider_form_context(form), "error": error,
               "connections": selectors.provider_connection_list(team=membership.team)}
    return _form_page(request, "agents/providers.html", "agents/providers.html#provider-form",
                      context, failed=error is not None)


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit_page(request: HtmxHttpRequest, connection_id: int) -> HttpResponse:
    connection = selectors.provider_connection_get_for_user(
        user=request.user, id=connection_id, write=True)
    form, error = _provider_form(connection=connection), None
    if request.method == "POST":
        try:
            services.provider_connection_update(
                connection=connection, **_provider_fields(request.POST, editing=True))
        except ApplicationError as exc:
            form, error = _provider_form(request.POST), exc.message
        else:
            return _saved(request, _("Provider connection %(name)s saved.")
                          % {"name": connection.name}, "provider_list")
    context = {"team": connection.team, "can_write": True, "edit_connection": connection,
               "error": error, **_provider_form_context(form)}
    return _form_page(request, "agents/provider_edit.html",
                      "agents/providers.html#provider-form", context, failed=error is not None)


@login_required
@require_POST
def provider_delete_page(request: HtmxHttpRequest, connection_id: int) -> HttpResponse:
    connection = selectors.provider_connection_get_for_user(
        user=request.user, id=connection_id, write=True)
    try:
        services.provider_connection_delete(connection=connection)
    except ApplicationError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("provider_list")
        context = {"connection": connection, "row_error": exc.message, "can_write": True}
        return render(request, "agents/providers.html#provider-row", context)
    return _deleted(request, "provider_list")


# ---------------------------------------------------------------- tools

def _header_names(tool: Tool) -> list[str]:
    """Only the names: the values are secrets (tokens, keys) and never go back to a page."""
    try:
        return sorted(selectors.tool_headers(tool=tool))
    except ApplicationError as exc:
        return [exc.message]


def _headers(text: str) -> dict[str, str]:
    """`Name: value` lines -> a dict; empty lines are skipped."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ApplicationError(_("Header line %(number)d must read “Name: value”.")
                                   % {"number": number})
        headers[name.strip()] = value.strip()
    return headers


def _arguments_example(schema: dict[str, Any]) -> str:
    properties = schema.get("properties") or {}
    example = {name: prop.get("default", _EMPTY_VALUES.get(prop.get("type"), ""))
               for name, prop in properties.items() if isinstance(prop, dict)}
    return json.dumps(example, ensure_ascii=False)


def _tool_card(tool: Tool) -> Tool:
    """The tool with what its card shows besides its fields."""
    tool.header_names = _header_names(tool) if tool.headers_encrypted else []
    tool.parameters_json = json.dumps(tool.parameters, ensure_ascii=False, indent=2)
    tool.arguments_example = _arguments_example(tool.parameters)
    return tool


def _tool_form(post: QueryDict | None = None, tool: Tool | None = None) -> dict[str, Any]:
    """The values of an HTTP or Python tool form; header values are never filled back in."""
    if post is not None:
        return {key: post.get(key, "") for key in
                ("target", "name", "description", "http_method", "url_template", "parameters",
                 "timeout_seconds")}
    if tool is not None:
        return {"name": tool.name, "description": tool.description,
                "http_method": tool.http_method, "url_template": tool.url_template,
                "parameters": json.dumps(tool.parameters, ensure_ascii=False, indent=2),
                "timeout_seconds": tool.timeout_seconds}
    return {"http_method": "GET", "parameters": HTTP_PARAMETERS_EXAMPLE, "timeout_seconds": 30}


def _tool_fields(post: QueryDict, *, kind: str, editing: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": post.get("name", "")}
    timeout = _decimal(post.get("timeout_seconds"), label=_("Timeout"))
    if timeout is not None:
        fields["timeout_seconds"] = timeout
    if editing or kind == ToolKind.HTTP:
        fields["description"] = post.get("description", "")
    if kind != ToolKind.HTTP:
        return fields
    headers = post.get("headers", "")
    if editing and post.get("clear_headers"):
        fields["headers"] = {}
    elif headers.strip() or not editing:
        fields["headers"] = _headers(headers)
    return fields | {key: post.get(key, "") for key in
                     ("http_method", "url_template", "parameters")}


def _tools_context(membership: Membership, **forms: Any) -> dict[str, Any]:
    tools = [_tool_card(tool) for tool in selectors.tool_list(team=membership.team)]
    return {**_team_context(membership), "tools": tools, "http_methods": sorted(HTTP_METHODS),
            "python_tools": sorted(python_tools().values(), key=lambda tool: tool.name),
            "python_form": _tool_form(), "http_form": _tool_form(), **forms}


@login_required
@require_http_methods(["GET"])
def tool_list_page(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return _no_team(request)
    return render(request, "agents/tools.html", _tools_context(membership))


def _tool_add(request: HtmxHttpRequest, *, kind: str, form_name: str) -> HttpResponse:
    """Adds a tool from the form `form_name` ("python" or "http") of the tools page."""
    membership = current_membership(request)
    if membership is None:
        return _no_team(request)
    team = _writable_team(request, membership)
    try:
        fields = _tool_fields(request.POST, kind=kind, editing=False)
        if kind != ToolKind.HTTP:
            builtin = {cls.name for cls in BUILTIN_TOOLS}
            kind = ToolKind.BUILTIN if request.POST.get("target") in builtin else ToolKind.PYTHON
            fields["target"] = request.POST.get("target", "")
        tool = services.tool_create(team=team, kind=kind, **fields)
    except ApplicationError as exc:
        context = _tools_context(membership, **{f"{form_name}_form": _tool_form(request.POST),
                                                f"{form_name}_error": exc.message})
        return _form_page(request, "agents/tools.html",
                          f"agents/tools.html#{form_name}-tool-form", context, failed=True)
    return _saved(request, _("Tool %(name)s added.") % {"name": tool.name}, "tool_list")


@login_required
@require_POST
def tool_python_add_page(request: HtmxHttpRequest) -> HttpResponse:
    return _tool_add(request, kind=ToolKind.PYTHON, form_name="python")


@login_required
@require_POST
def tool_http_add_page(request: HtmxHttpRequest) -> HttpResponse:
    return _tool_add(request, kind=ToolKind.HTTP, form_name="http")


@login_required
@require_http_methods(["GET", "POST"])
def tool_edit_page(request: HtmxHttpRequest, tool_id: int) -> HttpResponse:
    tool = selectors.tool_get_for_user(user=request.user, id=tool_id, write=True)
    form, error = _tool_form(tool=tool), None
    if request.method == "POST":
        try:
            services.tool_update(tool=tool, **_tool_fields(request.POST, kind=tool.kind,
                                                           editing=True))
        except ApplicationError as exc:
            form, error = _tool_form(request.POST), exc.message
            tool.refresh_from_db()
        else:
            return _saved(request, _("Tool %(name)s saved.") % {"name": tool.name}, "tool_list")
    form_name = "http" if tool.kind == ToolKind.HTTP else "python"
    context = {"team": tool.team, "can_write": True, "edit_tool": _tool_card(tool),
               "http_methods": sorted(HTTP_METHODS), f"{form_name}_form": form,
               f"{form_name}_error": error}
    return _form_page(request, "agents/tool_edit.html",
                      f"agents/tools.html#{form_name}-tool-form", context,
                      failed=error is not None)


@login_required
@require_POST
def tool_delete_page(request: HtmxHttpRequest, tool_id: int) -> HttpResponse:
    tool = selectors.tool_get_for_user(user=request.user, id=tool_id, write=True)
    services.tool_delete(tool=tool)
    return _deleted(request, "tool_list")


@login_required
@require_POST
def tool_try_page(request: HtmxHttpRequest, tool_id: int) -> HttpResponse:
    tool = selectors.tool_get_for_user(user=request.user, id=tool_id, write=True)
    arguments = request.POST.get("arguments", "")
    trial = tool_trials.tool_try(tool_row=tool, arguments_json=arguments)
    context = {"tool": tool, "trial": trial, "arguments": arguments}
    if request.htmx:
        return render(request, "agents/tools.html#tool-trial", context)
    membership = team_access_check(user=request.user, team_id=tool.team_id)
    return render(request, "agents/tools.html",
                  {**_tools_context(membership), **context, "trial_tool_id": tool.pk})
