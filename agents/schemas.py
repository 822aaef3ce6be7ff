from datetime import datetime
from typing import Any

from ninja import Field, Schema

from agents.models import ProviderProfile, ToolKind


class ProviderConnectionIn(Schema):
    name: str = Field(..., max_length=100)
    profile: ProviderProfile
    base_url: str = Field(..., max_length=500)
    model_names: list[str] = []
    api_key: str | None = Field(None, description="Stored encrypted; never returned.")
    api_key_env: str = Field("", description="Or: the server environment variable holding it.")


class ProviderConnectionPatch(Schema):
    name: str | None = None
    profile: ProviderProfile | None = None
    base_url: str | None = None
    model_names: list[str] | None = None
    api_key: str | None = Field(None, description="A new key; empty clears it; absent keeps it.")
    api_key_env: str | None = None


class ProviderConnectionOut(Schema):
    id: int
    team_id: int
    name: str
    profile: ProviderProfile
    base_url: str
    model_names: list[str]
    api_key_hint: str = Field(..., description="The key's last characters, e.g. …3f9a")
    api_key_env: str
    created_at: datetime


class ToolIn(Schema):
    kind: ToolKind
    name: str = Field("", max_length=64)
    description: str = ""
    target: str = Field("", description="builtin/python: the installed tool's name")
    parameters: dict[str, Any] = Field(default_factory=dict)
    http_method: str = ""
    url_template: str = ""
    headers: dict[str, str] | None = Field(None, description="Stored encrypted; never returned.")
    timeout_seconds: float = 30.0


class ToolPatch(Schema):
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    http_method: str | None = None
    url_template: str | None = None
    headers: dict[str, str] | None = None
    timeout_seconds: float | None = None


class ToolOut(Schema):
    id: int
    team_id: int
    name: str
    description: str
    kind: ToolKind
    target: str
    parameters: dict[str, Any]
    http_method: str
    url_template: str
    has_headers: bool
    timeout_seconds: float

    @staticmethod
    def resolve_has_headers(obj: Any) -> bool:
        return bool(obj.headers_encrypted)


class PythonToolOut(Schema):
    name: str
    description: str
    parameters: dict[str, Any]


class AgentIn(Schema):
    name: str = Field(..., max_length=100)
    slug: str = ""
    provider_id: int
    model_name: str
    system_prompt: str = ""
    temperature: float | None = None
    max_steps: int = 8
    tool_ids: list[int] = []
    knowledge_base_id: int | None = Field(
        None, description="A rule set the agent may query (tool query_knowledge_base).")


class AgentPatch(Schema):
    name: str | None = None
    slug: str | None = None
    provider_id: int | None = None
    model_name: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    max_steps: int | None = None
    tool_ids: list[int] | None = None
    knowledge_base_id: int | None = None


class AgentOut(Schema):
    id: int
    team_id: int
    name: str
    slug: str
    provider_id: int
    model_name: str
    system_prompt: str
    temperature: float | None
    max_steps: int
    tool_ids: list[int]
    knowledge_base_id: int | None

    @staticmethod
    def resolve_tool_ids(obj: Any) -> list[int]:
        return [tool.pk for tool in obj.tools.all()]


class RunIn(Schema):
    input: str = Field(..., description="The user's message")
    conversation_id: int | None = Field(None, description="Continue this conversation")


class ToolCallOut(Schema):
    id: str
    name: str
    arguments: str
    result: str
    error: str | None
    duration_ms: int


class StepOut(Schema):
    step: int
    content: str
    tool_calls: list[ToolCallOut]


class UsageOut(Schema):
    prompt_tokens: int
    completion_tokens: int


class RunOut(Schema):
    conversation_id: int
    answer: str
    trace: list[StepOut]
    usage: UsageOut


class ConversationOut(Schema):
    id: int
    agent_id: int
    title: str
    created_at: datetime
    updated_at: datetime


class ToolExecutionOut(Schema):
    call_id: str
    tool_name: str
    arguments: Any
    result: str
    error: str
    duration_ms: int


class MessageOut(Schema):
    id: int
    role: str
    content: str
    image_count: int
    tool_calls: list[dict[str, Any]]
    tool_call_id: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int | None
    created_at: datetime
    tool_executions: list[ToolExecutionOut]

    @staticmethod
    def resolve_image_count(obj: Any) -> int:
        return len(obj.parts)


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]


class AllowedHostIn(Schema):
    host: str = Field(..., max_length=253)


class AllowedHostOut(Schema):
    id: int
    host: str
    created_at: datetime
