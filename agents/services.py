"""Writes for provider connections, tools and agents of a team."""

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from jsonschema import Draft202012Validator, SchemaError

from agents.catalog import python_tool_get
from agents.models import Agent, AllowedHost, ProviderConnection, ProviderProfile, Tool, ToolKind
from oagweb.encryption import secret_encrypt, secret_hint
from oagweb.errors import ApplicationError, Conflict
from oagweb.models import Team
from reasoning.models import RuleSet

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # what OpenAI and GLM accept as function names
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
MAX_STEPS_LIMIT = 50  # a runaway loop costs money at the provider: cap what a user may set


def _http_url(value: str, *, field: str) -> str:
    value = value.strip()
    parts = urlsplit(value.replace("{", "").replace("}", ""))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ApplicationError(f"{field} must be an http:// or https:// URL, got {value!r}")
    return value


def _unique(create: Any, what: str) -> Any:
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        raise Conflict(f"The team already has {what}") from None


# ---------------------------------------------------------------- provider connections

def _provider_fields(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in fields:
        clean["name"] = (fields["name"] or "").strip()[:100]
        if not clean["name"]:
            raise ApplicationError("A provider connection needs a name")
    if "profile" in fields:
        if fields["profile"] not in ProviderProfile.values:
            raise ApplicationError(f"profile must be one of {', '.join(ProviderProfile.values)}")
        clean["profile"] = fields["profile"]
    if "base_url" in fields:
        clean["base_url"] = _http_url(fields["base_url"] or "", field="base_url")
    if "model_names" in fields:
        names = [str(name).strip() for name in fields["model_names"] or [] if str(name).strip()]
        clean["model_names"] = list(dict.fromkeys(names))
    if "api_key_env" in fields:
        env = (fields["api_key_env"] or "").strip()
        if env and not ENV_NAME.match(env):
            raise ApplicationError(f"api_key_env must be an environment variable name, got {env!r}")
        clean["api_key_env"] = env
    if fields.get("api_key") is not None:  # None keeps the stored key, "" clears it
        key = fields["api_key"].strip()
        clean["api_key_encrypted"] = secret_encrypt(key)
        clean["api_key_hint"] = secret_hint(key) if key else ""
    return clean


def provider_connection_create(*, team: Team, **fields: Any) -> ProviderConnection:
    """Stores a connection; the API key is encrypted, only a hint of it is kept readable."""
    for required in ("name", "profile", "base_url"):
        fields.setdefault(required, "")
    clean = _provider_fields(fields)
    return _unique(lambda: ProviderConnection.objects.create(team=team, **clean),
                   f"a provider connection named {clean['name']!r}")


def provider_connection_update(*, connection: ProviderConnection,
                               **fields: Any) -> ProviderConnection:
    for key, value in _provider_fields(fields).items():
        setattr(connection, key, value)
    _unique(connection.save, f"a provider connection named {connection.name!r}")
    return connection


def provider_connection_delete(*, connection: ProviderConnection) -> None:
    try:
        connection.delete()
    except ProtectedError:
        names = ", ".join(sorted(agent.name for agent in connection.agents.all()))
        raise Conflict(f"Agents still use this connection: {names}") from None


# ---------------------------------------------------------------- tools

def _schema(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"parameters is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApplicationError("parameters must be a JSON Schema object")
    value = value or {"type": "object", "properties": {}}
    if value.get("type") != "object":
        raise ApplicationError('parameters must be a JSON Schema with "type": "object"')
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise ApplicationError(f"parameters is not a valid JSON Schema: {exc.message}") from None
    return value


def _headers(value: Any) -> str:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ApplicationError("headers must be an object of header names to string values")
    return secret_encrypt(json.dumps(value)) if value else ""


def _tool_fields(fields: dict[str, Any], *, kind: str) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in fields:
        clean["name"] = (fields["name"] or "").strip()
        if not TOOL_NAME.match(clean["name"]):
            raise ApplicationError("A tool name has 1-64 letters, digits, _ or -")
    if "description" in fields:
        clean["description"] = (fields["description"] or "").strip()
        if not clean["description"]:
            raise ApplicationError("A tool needs a description: the model chooses tools by it")
    if "timeout_seconds" in fields:
        clean["timeout_seconds"] = float(fields["timeout_seconds"])
        if not 0 < clean["timeout_seconds"] <= 300:
            raise ApplicationError("timeout_seconds must lie in (0, 300]")
    if kind == ToolKind.HTTP:
        if "http_method" in fields:
            clean["http_method"] = (fields["http_method"] or "").upper()
            if clean["http_method"] not in HTTP_METHODS:
                methods = ", ".join(sorted(HTTP_METHODS))
                raise ApplicationError(f"http_method must be one of {methods}")
        if "url_template" in fields:
            clean["url_template"] = _http_url(fields["url_template"] or "", field="url_template")
        if fields.get("headers") is not None:
            clean["headers_encrypted"] = _headers(fields["headers"])
        if "parameters" in fields:
            clean["parameters"] = _schema(fields["parameters"])
    return clean


def tool_create(*, team: Team, kind: str, **fields: Any) -> Tool:
    """Adds a tool: a built-in or installed Python tool by name, or an HTTP tool."""
    if kind not in ToolKind.values:
        raise ApplicationError(f"kind must be one of {', '.join(ToolKind.values)}")
    if kind == ToolKind.HTTP:
        for required in ("name", "description", "http_method", "url_template", "parameters"):
            fields.setdefault(required, "" if required != "parameters" else {})
        clean = _tool_fields(fields, kind=kind)
    else:
        python_tool = python_tool_get(fields.get("target") or "")
        clean = _tool_fields({"name": python_tool.name, "description": python_tool.description,
                              **{k: v for k, v in fields.items() if v}}, kind=kind)
        clean |= {"target": python_tool.name, "parameters": python_tool.spec().parameters}
    return _unique(lambda: Tool.objects.create(team=team, kind=kind, **clean),
                   f"a tool named {clean['name']!r}")


def tool_update(*, tool: Tool, **fields: Any) -> Tool:
    for key, value in _tool_fields(fields, kind=tool.kind).items():
        setattr(tool, key, value)
    _unique(tool.save, f"a tool named {tool.name!r}")
    return tool


def tool_delete(*, tool: Tool) -> None:
    tool.delete()


# ---------------------------------------------------------------- agents

def _agent_fields(team: Team, fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in fields:
        clean["name"] = (fields["name"] or "").strip()[:100]
        if not clean["name"]:
            raise ApplicationError("An agent needs a name")
    if "slug" in fields or "name" in fields:
        clean["slug"] = slugify(fields.get("slug") or clean.get("name", ""))[:100]
        if not clean["slug"]:
            raise ApplicationError("An agent needs a slug of letters, digits, - or _")
    if "provider_id" in fields:
        provider = ProviderConnection.objects.filter(team=team, id=fields["provider_id"]).first()
        if provider is None:
            raise ApplicationError(f"No such provider connection: {fields['provider_id']}")
        clean["provider"] = provider
    if "model_name" in fields:
        clean["model_name"] = (fields["model_name"] or "").strip()
        if not clean["model_name"]:
            raise ApplicationError("An agent needs a model name, e.g. glm-4")
    if "system_prompt" in fields:
        clean["system_prompt"] = fields["system_prompt"] or ""
    if "temperature" in fields:
        temperature = fields["temperature"]
        if temperature is not None and not 0 <= temperature <= 2:
            raise ApplicationError("temperature must lie between 0 and 2")
        clean["temperature"] = temperature
    if "max_steps" in fields:
        if not 1 <= int(fields["max_steps"]) <= MAX_STEPS_LIMIT:
            raise ApplicationError(f"max_steps must lie between 1 and {MAX_STEPS_LIMIT}")
        clean["max_steps"] = int(fields["max_steps"])
    if "knowledge_base_id" in fields:
        clean["knowledge_base"] = _knowledge_base(team, fields["knowledge_base_id"])
    return clean


def _knowledge_base(team: Team, rule_set_id: int | None) -> RuleSet | None:
    if rule_set_id is None:
        return None
    rule_set = RuleSet.objects.filter(team=team, id=rule_set_id).first()
    if rule_set is None:
        raise ApplicationError(f"No such rule set: {rule_set_id}")
    return rule_set


def _agent_tools(team: Team, tool_ids: list[int]) -> list[Tool]:
    tools = list(Tool.objects.filter(team=team, id__in=tool_ids))
    missing = set(tool_ids) - {tool.pk for tool in tools}
    if missing:
        raise ApplicationError(f"No such tool: {', '.join(map(str, sorted(missing)))}")
    return tools


@transaction.atomic
def agent_create(*, team: Team, tool_ids: list[int] | None = None, **fields: Any) -> Agent:
    """Creates an agent on one of the team's provider connections, with the team's tools."""
    for required in ("name", "provider_id", "model_name"):
        fields.setdefault(required, "")
    clean = _agent_fields(team, fields)
    tools = _agent_tools(team, tool_ids or [])
    agent = _unique(lambda: Agent.objects.create(team=team, **clean),
                    f"an agent with the slug {clean['slug']!r}")
    agent.tools.set(tools)
    return agent


@transaction.atomic
def agent_update(*, agent: Agent, tool_ids: list[int] | None = None, **fields: Any) -> Agent:
    for key, value in _agent_fields(agent.team, fields).items():
        setattr(agent, key, value)
    _unique(agent.save, f"an agent with the slug {agent.slug!r}")
    if tool_ids is not None:
        agent.tools.set(_agent_tools(agent.team, tool_ids))
    return agent


def agent_delete(*, agent: Agent) -> None:
    agent.delete()


# ---------------------------------------------------------------- allowed hosts

LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")


def _host(value: str) -> str:
    host = (value or "").strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if not HOST_NAME.match(host):
        raise ApplicationError(f"{value!r} is not a host name or IP address")
    return host


def allowed_host_add(*, team: Team, host: str) -> AllowedHost:
    """Lets the team's HTTP tools reach `host` even where it resolves to a private address."""
    host = _host(host)
    return _unique(lambda: AllowedHost.objects.create(team=team, host=host),
                   f"{host!r} on its allow-list")


def allowed_host_remove(*, allowed: AllowedHost) -> None:
    allowed.delete()
