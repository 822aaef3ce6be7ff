"""Running an agent in a conversation: the one service chat, the REST API and SSE share.

`conversation_run_events` drives the pure runtime and persists as it goes: the user's
message first, then each finished step's assistant and tool messages with their tool
executions, so a reload (or a crash mid-run) shows everything said so far.
"""

import base64
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import Http404

from agents import selectors
from agents.catalog import python_tool_get
from agents.knowledge_tool import KnowledgeBaseTool
from agents.models import (
    Agent,
    AllowedHost,
    Conversation,
    Message,
    MessageRole,
    ProviderProfile,
    ToolExecution,
    ToolKind,
)
from agents.models import Tool as ToolRow
from agents.providers import OpenAICompatProvider
from agents.providers.base import ImagePart, ProviderError, ToolCall
from agents.providers.base import Message as CoreMessage
from agents.providers.profiles import GENERIC, GLM
from agents.runtime.events import FinalAnswer, RunError, RunEvent, StepFinished, TraceStep
from agents.runtime.http_tool import HttpTool
from agents.runtime.loop import run_events
from agents.runtime.tools import Tool
from oagweb.encryption import secret_decrypt
from oagweb.errors import ApplicationError

TITLE_CHARS = 80  # a conversation is titled after the start of its first question


def provider_build(agent: Agent) -> OpenAICompatProvider:
    """The provider of the agent's connection, with its key decrypted or read from env."""
    connection = agent.provider
    key = secret_decrypt(connection.api_key_encrypted)
    if not key and connection.api_key_env:
        key = os.environ.get(connection.api_key_env, "")
        if not key:
            raise ApplicationError(f"{connection.api_key_env} is not set on the server "
                                   f"(provider connection {connection.name!r})")
    profile = GLM if connection.profile == ProviderProfile.GLM else GENERIC
    # Servers without auth (Ollama, llama.cpp) still want a non-empty bearer token.
    return OpenAICompatProvider(connection.base_url, key or "none", profile)


def tools_build(agent: Agent) -> list[Tool]:
    tools = [tool_build(row) for row in agent.tools.all()]
    if agent.knowledge_base is not None:
        tools.append(KnowledgeBaseTool(agent.knowledge_base))
    return tools


def tool_build(row: ToolRow) -> Tool:
    """The runtime tool of a team's tool row."""
    return http_tool_build(row) if row.kind == ToolKind.HTTP else python_tool_get(row.target)


def http_tool_build(row: ToolRow) -> Tool:
    headers = selectors.tool_headers(tool=row)
    allowed = frozenset(AllowedHost.objects.filter(team_id=row.team_id)
                        .values_list("host", flat=True))
    return HttpTool(name=row.name, description=row.description, parameters=row.parameters,
                    method=row.http_method, url_template=row.url_template, headers=headers,
                    timeout=row.timeout_seconds, allowed_hosts=allowed)


def _core_message(row: Message) -> CoreMessage:
    images = tuple(ImagePart(data=base64.b64decode(part["data_b64"]), mime_type=part["mime"])
                   for part in row.parts)
    calls = tuple(ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"])
                  for c in row.tool_calls)
    return CoreMessage(role=row.role, content=row.content, images=images, tool_calls=calls,
                       tool_call_id=row.tool_call_id or None)


def conversation_start(*, agent: Agent, user: AbstractBaseUser, title: str = "") -> Conversation:
    return Conversation.objects.create(team=agent.team, agent=agent, created_by=user,
                                       title=title[:TITLE_CHARS])


def conversation_for_run(*, user: AbstractBaseUser, agent_id: int,
                         conversation_id: int | None) -> Conversation:
    """The conversation a run continues, or a new one; 404 for another agent's."""
    agent = selectors.agent_get_for_user(user=user, id=agent_id, write=True)
    if conversation_id is None:
        return conversation_start(agent=agent, user=user)
    conversation = selectors.conversation_get_for_user(user=user, id=conversation_id,
                                                       write=True)
    if conversation.agent_id != agent.pk:
        raise Http404("No such conversation for this agent")
    return conversation


def _history(conversation: Conversation) -> list[CoreMessage]:
    system = conversation.agent.system_prompt
    messages = [CoreMessage(role="system", content=system)] if system else []
    return messages + [_core_message(row) for row in conversation.messages.all()]


def _user_message_add(conversation: Conversation, text: str,
                      images: list[ImagePart]) -> None:
    parts = [{"mime": image.mime_type, "data_b64": base64.b64encode(image.data).decode()}
             for image in images]
    Message.objects.create(conversation=conversation, role=MessageRole.USER, content=text,
                           parts=parts)
    if not conversation.title:
        conversation.title = text.strip()[:TITLE_CHARS]
    conversation.save(update_fields=["title", "updated_at"])


@transaction.atomic
def _step_save(conversation: Conversation, step: TraceStep, latency_ms: int) -> None:
    assistant = step.assistant
    row = Message.objects.create(
        conversation=conversation, role=MessageRole.ASSISTANT, content=assistant.content,
        tool_calls=[{"id": c.id, "name": c.name, "arguments": c.arguments}
                    for c in assistant.tool_calls],
        prompt_tokens=step.usage.prompt_tokens, completion_tokens=step.usage.completion_tokens,
        latency_ms=latency_ms,
    )
    for call in step.tool_calls:
        ToolExecution.objects.create(
            conversation=conversation, message=row, call_id=call.call_id, tool_name=call.name,
            arguments=_arguments_json(call.arguments), result=call.result,
            error=call.error or "", duration_ms=round(call.duration_ms),
        )
    for message in step.tool_messages:
        Message.objects.create(conversation=conversation, role=MessageRole.TOOL,
                               content=message.content, tool_call_id=message.tool_call_id or "")


def _arguments_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"_raw": raw}  # malformed arguments are kept as the model wrote them


async def conversation_run_events(
    *, conversation: Conversation, text: str, images: list[ImagePart] | None = None,
) -> AsyncIterator[RunEvent]:
    """Adds the user's message, runs the agent, persists each step; yields runtime events."""
    text = text.strip()
    if not text and not images:
        raise ApplicationError("Say something: the message is empty")
    agent = conversation.agent
    provider, tools, history = await sync_to_async(_run_start)(conversation, text,
                                                               list(images or []))
    started = time.monotonic()
    events = run_events(provider=provider, model=agent.model_name, messages=history,
                        tools=tools, temperature=agent.temperature, max_steps=agent.max_steps)
    async with aclosing(events) as stream:
        async for event in stream:
            if isinstance(event, StepFinished):
                latency = round((time.monotonic() - started) * 1000)
                await sync_to_async(_step_save)(conversation, event.step, latency)
                started = time.monotonic()
            yield event


@transaction.atomic
def _run_start(conversation: Conversation, text: str, images: list[ImagePart],
               ) -> tuple[OpenAICompatProvider, list[Tool], list[CoreMessage]]:
    """Provider, tools and history with the user's message added: everything before the model
    call in one trip to the database thread and one commit (time to first token)."""
    agent = conversation.agent
    provider, tools = provider_build(agent), tools_build(agent)
    _user_message_add(conversation, text, images)
    return provider, tools, _history(conversation)


async def conversation_run(
    *, conversation: Conversation, text: str, images: list[ImagePart] | None = None,
) -> dict[str, Any]:
    """The whole run as one result: answer, trace of tool calls, usage; raises on failure."""
    trace: list[dict[str, Any]] = []
    async for event in conversation_run_events(conversation=conversation, text=text,
                                               images=images):
        if isinstance(event, StepFinished):
            trace.append(step_data(event.step))
        elif isinstance(event, FinalAnswer):
            return {"conversation_id": conversation.pk, "answer": event.text, "trace": trace,
                    "usage": {"prompt_tokens": event.usage.prompt_tokens,
                              "completion_tokens": event.usage.completion_tokens}}
        elif isinstance(event, RunError):
            raise ProviderError(event.message, status=event.status)
    raise ApplicationError("The run ended without an answer")


def step_data(step: TraceStep) -> dict[str, Any]:
    return {
        "step": step.index,
        "content": step.assistant.content,
        "tool_calls": [
            {"id": call.call_id, "name": call.name, "arguments": call.arguments,
             "result": call.result, "error": call.error, "duration_ms": round(call.duration_ms)}
            for call in step.tool_calls
        ],
    }


def conversation_stopped_save(*, conversation: Conversation, partial_text: str) -> None:
    """Keeps what the model had said when the user stopped it, so a reload shows it too."""
    if partial_text.strip():
        Message.objects.create(conversation=conversation, role=MessageRole.ASSISTANT,
                               content=partial_text)
