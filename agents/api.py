"""REST endpoints of the agents app: provider connections, tools, agents, runs, conversations.

`POST /agents/{id}/runs` answers JSON, or Server-Sent Events when the client sends
`Accept: text/event-stream`; both come from the same run service.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from asgiref.sync import sync_to_async
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Status

from agents import conversations, selectors, services
from agents.catalog import python_tools
from agents.models import Conversation
from agents.runtime.events import RunEvent, StepFinished
from agents.schemas import (
    AgentIn,
    AgentOut,
    AgentPatch,
    AllowedHostIn,
    AllowedHostOut,
    ConversationDetailOut,
    ConversationOut,
    ProviderConnectionIn,
    ProviderConnectionOut,
    ProviderConnectionPatch,
    PythonToolOut,
    RunIn,
    RunOut,
    ToolIn,
    ToolOut,
    ToolPatch,
)
from oagweb.router import ERRORS
from oagweb.schemas import ErrorOut
from oagweb.selectors import team_get_for_user, team_manage_check

router = Router(tags=["agents"])
ERRORS_RUN = {**ERRORS, 502: ErrorOut}


def _patch(payload) -> dict:
    return payload.dict(exclude_unset=True)


# ---------------------------------------------------------------- provider connections

@router.get("/teams/{team_id}/providers", response={200: list[ProviderConnectionOut], **ERRORS},
            operation_id="provider_connection_list")
def provider_connection_list(request: HttpRequest, team_id: int):
    team = team_get_for_user(user=request.user, id=team_id)
    return selectors.provider_connection_list(team=team)


@router.post("/teams/{team_id}/providers", response={201: ProviderConnectionOut, **ERRORS},
             operation_id="provider_connection_create")
def provider_connection_create(request: HttpRequest, team_id: int, payload: ProviderConnectionIn):
    team = team_get_for_user(user=request.user, id=team_id, write=True)
    return Status(201, services.provider_connection_create(team=team, **payload.dict()))


@router.get("/providers/{connection_id}", response={200: ProviderConnectionOut, **ERRORS},
            operation_id="provider_connection_get")
def provider_connection_get(request: HttpRequest, connection_id: int):
    return selectors.provider_connection_get_for_user(user=request.user, id=connection_id)


@router.patch("/providers/{connection_id}", response={200: ProviderConnectionOut, **ERRORS},
              operation_id="provider_connection_update")
def provider_connection_update(request: HttpRequest, connection_id: int,
                               payload: ProviderConnectionPatch):
    connection = selectors.provider_connection_get_for_user(
        user=request.user, id=connection_id, write=True)
    return services.provider_connection_update(connection=connection, **_patch(payload))


@router.delete("/providers/{connection_id}", response={204: None, **ERRORS},
               operation_id="provider_connection_delete")
def provider_connection_delete(request: HttpRequest, connection_id: int):
    connection = selectors.provider_connection_get_for_user(
        user=request.user, id=connection_id, write=True)
    services.provider_connection_delete(connection=connection)
    return Status(204, None)


# ---------------------------------------------------------------- tools

@router.get("/python-tools", response={200: list[PythonToolOut], **ERRORS},
            operation_id="python_tool_list")
def python_tool_list(request: HttpRequest):
    """The built-in and installed Python tools a team can add."""
    return [{"name": tool.name, "description": tool.description, "parameters": tool.schema()}
            for tool in python_tools().values()]


@router.get("/teams/{team_id}/tools", response={200: list[ToolOut], **ERRORS},
            operation_id="tool_list")
def tool_list(request: HttpRequest, team_id: int):
    return selectors.tool_list(team=team_get_for_user(user=request.user, id=team_id))


@router.post("/teams/{team_id}/tools", response={201: ToolOut, **ERRORS},
             operation_id="tool_create")
def tool_create(request: HttpRequest, team_id: int, payload: ToolIn):
    team = team_get_for_user(user=request.user, id=team_id, write=True)
    return Status(201, services.tool_create(team=team, **payload.dict()))


@router.get("/tools/{tool_id}", response={200: ToolOut, **ERRORS}, operation_id="tool_get")
def tool_get(request: HttpRequest, tool_id: int):
    return selectors.tool_get_for_user(user=request.user, id=tool_id)


@router.patch("/tools/{tool_id}", response={200: ToolOut, **ERRORS}, operation_id="tool_update")
def tool_update(request: HttpRequest, tool_id: int, payload: ToolPatch):
    tool = selectors.tool_get_for_user(user=request.user, id=tool_id, write=True)
    return services.tool_update(tool=tool, **_patch(payload))


@router.delete("/tools/{tool_id}", response={204: None, **ERRORS}, operation_id="tool_delete")
def tool_delete(request: HttpRequest, tool_id: int):
    services.tool_delete(tool=selectors.tool_get_for_user(user=request.user, id=tool_id,
                                                          write=True))
    return Status(204, None)


# ---------------------------------------------------------------- allowed hosts

@router.get("/teams/{team_id}/allowed-hosts", response={200: list[AllowedHostOut], **ERRORS},
            operation_id="allowed_host_list")
def allowed_host_list(request: HttpRequest, team_id: int):
    """Hosts the team's HTTP tools may reach although they resolve to private addresses."""
    return selectors.allowed_host_list(team=team_get_for_user(user=request.user, id=team_id))


@router.post("/teams/{team_id}/allowed-hosts", response={201: AllowedHostOut, **ERRORS},
             operation_id="allowed_host_add")
def allowed_host_add(request: HttpRequest, team_id: int, payload: AllowedHostIn):
    team = team_manage_check(user=request.user, team_id=team_id).team
    return Status(201, services.allowed_host_add(team=team, host=payload.host))


@router.delete("/allowed-hosts/{allowed_id}", response={204: None, **ERRORS},
               operation_id="allowed_host_remove")
def allowed_host_remove(request: HttpRequest, allowed_id: int):
    allowed = selectors.allowed_host_get_for_user(user=request.user, id=allowed_id)
    services.allowed_host_remove(allowed=allowed)
    return Status(204, None)


# ---------------------------------------------------------------- agents

@router.get("/teams/{team_id}/agents", response={200: list[AgentOut], **ERRORS},
            operation_id="agent_list")
def agent_list(request: HttpRequest, team_id: int):
    return selectors.agent_list(team=team_get_for_user(user=request.user, id=team_id))


@router.post("/teams/{team_id}/agents", response={201: AgentOut, **ERRORS},
             operation_id="agent_create")
def agent_create(request: HttpRequest, team_id: int, payload: AgentIn):
    team = team_get_for_user(user=request.user, id=team_id, write=True)
    return Status(201, services.agent_create(team=team, **payload.dict()))


@router.get("/agents/{agent_id}", response={200: AgentOut, **ERRORS}, operation_id="agent_get")
def agent_get(request: HttpRequest, agent_id: int):
    return selectors.agent_get_for_user(user=request.user, id=agent_id)


@router.patch("/agents/{agent_id}", response={200: AgentOut, **ERRORS},
              operation_id="agent_update")
def agent_update(request: HttpRequest, agent_id: int, payload: AgentPatch):
    agent = selectors.agent_get_for_user(user=request.user, id=agent_id, write=True)
    return services.agent_update(agent=agent, **_patch(payload))


@router.delete("/agents/{agent_id}", response={204: None, **ERRORS},
               operation_id="agent_delete")
def agent_delete(request: HttpRequest, agent_id: int):
    services.agent_delete(agent=selectors.agent_get_for_user(user=request.user, id=agent_id,
                                                             write=True))
    return Status(204, None)


# ---------------------------------------------------------------- runs and conversations

def _sse(event: RunEvent) -> str:
    name = type(event).__name__
    data = ({"step": conversations.step_data(event.step)} if isinstance(event, StepFinished)
            else asdict(event))
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse_stream(conversation: Conversation, text: str) -> AsyncIterator[str]:
    yield f"event: Conversation\ndata: {json.dumps({'id': conversation.pk})}\n\n"
    try:
        async for event in conversations.conversation_run_events(conversation=conversation,
                                                                 text=text):
            yield _sse(event)
    except Exception as exc:  # the stream has started: the error must travel inside it
        message = getattr(exc, "message", None) or "Internal server error"
        yield f"event: RunError\ndata: {json.dumps({'message': message, 'status': 0})}\n\n"


@router.post("/agents/{agent_id}/runs", response={200: RunOut, **ERRORS_RUN},
             operation_id="agent_run")
async def agent_run(request: HttpRequest, agent_id: int, payload: RunIn):
    """Runs the agent on `input`; JSON by default, Server-Sent Events with
    `Accept: text/event-stream` (events TokenDelta, ToolCallStarted, ToolCallFinished,
    StepFinished, FinalAnswer, RunError)."""
    conversation = await sync_to_async(conversations.conversation_for_run)(
        user=request.user, agent_id=agent_id, conversation_id=payload.conversation_id)
    if "text/event-stream" in request.headers.get("Accept", ""):
        response = StreamingHttpResponse(_sse_stream(conversation, payload.input),
                                         content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx must not buffer the stream
        return response
    return await conversations.conversation_run(conversation=conversation, text=payload.input)


@router.get("/agents/{agent_id}/conversations", response={200: list[ConversationOut], **ERRORS},
            operation_id="conversation_list")
def conversation_list(request: HttpRequest, agent_id: int):
    agent = selectors.agent_get_for_user(user=request.user, id=agent_id)
    return selectors.conversation_list(agent=agent)


@router.get("/conversations/{conversation_id}", response={200: ConversationDetailOut, **ERRORS},
            operation_id="conversation_get")
def conversation_get(request: HttpRequest, conversation_id: int):
    conversation = selectors.conversation_get_for_user(user=request.user, id=conversation_id)
    return {**{f: getattr(conversation, f) for f in
               ("id", "agent_id", "title", "created_at", "updated_at")},
            "messages": list(conversation.messages.prefetch_related("tool_executions"))}
