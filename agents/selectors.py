"""Reads and access checks for provider connections, tools, agents and conversations."""

import json

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.http import Http404

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
from oagweb.selectors import team_access_check, team_manage_check


def _team_object_get(queryset: QuerySet, *, user: AbstractBaseUser, id: int, write: bool,
                     label: str) -> Model:
    """A team-owned object the user may see (404 otherwise), checked for write if asked."""
    found = queryset.filter(id=id, team__memberships__user=user).first()
    if found is None:
        raise Http404(f"No such {label}")
    team_access_check(user=user, team_id=found.team_id, write=write)
    return found


def provider_connection_get_for_user(
    *, user: AbstractBaseUser, id: int, write: bool = False
) -> ProviderConnection:
    return _team_object_get(ProviderConnection.objects.all(), user=user, id=id, write=write,
                            label="provider connection")


def tool_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Tool:
    return _team_object_get(Tool.objects.all(), user=user, id=id, write=write, label="tool")


def agent_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Agent:
    queryset = Agent.objects.select_related("provider", "team").prefetch_related("tools")
    return _team_object_get(queryset, user=user, id=id, write=write, label="agent")


def conversation_get_for_user(
    *, user: AbstractBaseUser, id: int, write: bool = False
) -> Conversation:
    queryset = Conversation.objects.select_related("agent")
    return _team_object_get(queryset, user=user, id=id, write=write, label="conversation")


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
    allowed = _team_object_get(AllowedHost.objects.all(), user=user, id=id, write=True,
                               label="allowed host")
    team_manage_check(user=user, team_id=allowed.team_id)
    return allowed
