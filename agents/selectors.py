"""Reads and access checks for provider connections, tools, agents and conversations."""

import json

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from agents.models import (
    Agent,
    AllowedHost,
    Conversation,
    Message,
    MessageRole,
    ProviderConnection,
    Tool,
)
from oagweb.encryption import secret_decrypt
from oagweb.models import Team
from oagweb.selectors import team_manage_check, team_object_get


def provider_connection_get_for_user(
    *, user: AbstractBaseUser, id: int, write: bool = False
) -> ProviderConnection:
    return team_object_get(ProviderConnection.objects.all(), user=user, id=id, write=write,
                            label="provider connection")


def tool_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Tool:
    return team_object_get(Tool.objects.all(), user=user, id=id, write=write, label="tool")


def agent_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Agent:
    queryset = Agent.objects.select_related("provider", "team").prefetch_related("tools")
    return team_object_get(queryset, user=user, id=id, write=write, label="agent")


def conversation_get_for_user(
    *, user: AbstractBaseUser, id: int, write: bool = False
) -> Conversation:
    queryset = Conversation.objects.select_related("agent")
    return team_object_get(queryset, user=user, id=id, write=write, label="conversation")


def tool_headers(*, tool: Tool) -> dict[str, str]:
    """An HTTP tool's headers, decrypted: for the request only, never for a page."""
    return json.loads(secret_decrypt(tool.headers_encrypted) or "{}")


def provider_connection_list(*, team: Team) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.filter(team=team)


def tool_list(*, team: Team) -> QuerySet[Tool]:
    return Tool.objects.filter(team=team)


def agent_list(*, team: Team) -> QuerySet[Agent]:
    return Agent.objects.filter(team=team).select_related("provider").prefetch_related("tools")


def conversation_list(*, agent: Agent) -> QuerySet[Conversation]:
    return Conversation.objects.filter(agent=agent)


def conversation_transcript(*, conversation: Conversation) -> QuerySet[Message]:
    """What a reader sees, in order: tool results show inside their call, not on their own."""
    return (conversation.messages.exclude(role=MessageRole.TOOL)
            .prefetch_related("tool_executions"))


def allowed_host_list(*, team: Team) -> QuerySet[AllowedHost]:
    return AllowedHost.objects.filter(team=team)


def allowed_host_get_for_user(*, user: AbstractBaseUser, id: int) -> AllowedHost:
    """Only owners and admins change what HTTP tools may reach."""
    allowed = team_object_get(AllowedHost.objects.all(), user=user, id=id, write=True,
                               label="allowed host")
    team_manage_check(user=user, team_id=allowed.team_id)
    return allowed
