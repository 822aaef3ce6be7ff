"""An OpenAI-compatible API at /api/v1/openai/: any OpenAI client can chat with an agent.

Point a client at `base_url=<host>/api/v1/openai` with an oagweb API token as its key and
use an agent's slug as the model (`<team-slug>/<agent-slug>` where two of your teams share a
slug; `GET /models` lists the ids). The agent's tools run here, server side; only its text
comes back. The last message is the agent's input, earlier ones its history; each request
is a new conversation. `temperature` and `max_tokens` are accepted and ignored: the agent's
own settings apply. Streaming sends the text of every model turn as it arrives, including
any the model says before calling a tool.

It is its own NinjaAPI, not a router of the main one, because OpenAI clients expect errors
as `{"error": {"message", "type", "param", "code"}}`, authentication and body errors too,
which the main API's handlers answer as `{"detail": ...}`.
"""

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from agents import conversations
from agents.models import Agent, Conversation
from agents.openai_compat_service import (
    ChatTurn,
    openai_agent_get_for_user,
    openai_conversation_start,
    openai_model_list,
    openai_question_split,
)
from agents.providers.base import ProviderError, Usage
from agents.runtime.events import FinalAnswer, RunError, RunEvent, TokenDelta
from oagweb.auth import API_AUTH
from oagweb.errors import ApplicationError

logger = logging.getLogger(__name__)

openai_api = NinjaAPI(
    title="oagweb OpenAI-compatible API",
    version="1",
    description="Chat completions with your agents for OpenAI clients: "
    "`base_url=<host>/api/v1/openai`, `api_key=<oagweb API token>`, `model=<agent slug>`.",
    auth=API_AUTH,
    urls_namespace="openai",
)


# ---------------------------------------------------------------- schemas

class TextPartIn(Schema):
    type: Literal["text"]
    text: str


class ChatMessageIn(Schema):
    # "developer" is what newer OpenAI models call the system role. Tool messages have no
    # place here: the agent's tools run on the server.
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPartIn] | None = None


class StreamOptionsIn(Schema):
    include_usage: bool = False


class ChatCompletionIn(Schema):
    model: str = Field(..., description="An agent's slug, or `<team-slug>/<agent-slug>`")
    messages: list[ChatMessageIn] = Field(..., min_length=1)
    stream: bool = False
    stream_options: StreamOptionsIn | None = None
    temperature: float | None = Field(None, description="Ignored: the agent's own applies")
    max_tokens: int | None = Field(None, description="Ignored")


class AssistantMessageOut(Schema):
    role: Literal["assistant"]
    content: str


class ChoiceOut(Schema):
    index: int
    message: AssistantMessageOut
    finish_reason: str


class UsageOut(Schema):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(Schema):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChoiceOut]
    usage: UsageOut


class ModelOut(Schema):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str = Field(..., description="The agent's team slug")


class ModelListOut(Schema):
    object: Literal["list"]
    data: list[ModelOut]


class ErrorBodyOut(Schema):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorOut(Schema):
    error: ErrorBodyOut


ERRORS = {code: ErrorOut for code in (400, 401, 403, 404)}
ERRORS_RUN = {**ERRORS, 502: ErrorOut}


# ---------------------------------------------------------------- errors

# Codes OpenAI clients and their users recognise; an exception's own `code` wins.
STATUS_CODES = {401: "invalid_api_key", 403: "permission_denied", 404: "not_found",
                502: "provider_error"}


def openai_error(request: HttpRequest, message: str, status: int, *,
                 code: str | None = None, param: str | None = None) -> HttpResponse:
    body = {"message": message, "type": "invalid_request_error" if status < 500
            else "server_error", "param": param, "code": code or STATUS_CODES.get(status)}
    return openai_api.create_response(request, {"error": body}, status=status)


def _status_and_message(exc: Exception) -> tuple[int, str]:
    """The status and words the main API gives the same error, so both agree."""
    if isinstance(exc, ApplicationError):
        return exc.status_code, exc.message
    if isinstance(exc, Http404):
        return 404, str(exc) or "Not found"
    if isinstance(exc, PermissionDenied):
        return 403, str(exc) or "Permission denied"
    if isinstance(exc, AuthenticationError):
        return 401, "No API key: send your oagweb API token as 'Authorization: Bearer <token>'"
    if isinstance(exc, HttpError):
        return exc.status_code, str(exc)
    if isinstance(exc, ProviderError):
        # The agent's provider failed, not the caller: a bad gateway, in the provider's words.
        return 502, _provider_message(exc.message, exc.status)
    return 500, "Internal server error"


def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # ninja's locations start with ("body", "payload"); the client knows only its fields.
    places = [".".join(str(part) for part in error["loc"][2:]) for error in exc.errors]
    message = "; ".join(f"{place or 'body'}: {error['msg']}"
                        for place, error in zip(places, exc.errors, strict=True))
    return openai_error(request, message, 400, code="invalid_request_body",
                        param=places[0] or None)


def _error_response(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, ValidationError):
        return _invalid(request, exc)
    status, message = _status_and_message(exc)
    if status == 500:
        logger.exception("OpenAI API error on %s %s", request.method, request.path)
    # Only the platform's own errors carry a code meant for clients (ModelNotFound does).
    code = getattr(exc, "code", None) if isinstance(exc, ApplicationError) else None
    return openai_error(request, message, status, code=code)


# Each class ninja has a default handler for is named, since handlers are looked up by MRO.
for _kind in (ApplicationError, Http404, PermissionDenied, AuthenticationError, ValidationError,
              HttpError, ProviderError, Exception):
    openai_api.add_exception_handler(_kind, _error_response)


def _provider_message(message: str, status: int) -> str:
    return f"The model provider failed{f' (HTTP {status})' if status else ''}: {message}"


@csrf_exempt  # it changes nothing, and token clients POST without a CSRF cookie
def openai_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Unknown paths under /api/v1/openai/ (embeddings, files...) answer in OpenAI's shape."""
    return openai_error(request, f"Invalid URL ({request.method} {request.path})", 404,
                        code="unknown_url")


# ---------------------------------------------------------------- models

def _model_data(model_id: str, agent: Agent) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": int(agent.created_at.timestamp()),
            "owned_by": agent.team.slug}


@openai_api.get("/models", response={200: ModelListOut, **ERRORS}, operation_id="model_list",
                tags=["openai"])
def model_list(request: HttpRequest) -> dict[str, Any]:
    """The agents of your teams, as models."""
    models = openai_model_list(user=request.user)
    return {"object": "list", "data": [_model_data(*model) for model in models]}


@openai_api.get("/models/{path:model}", response={200: ModelOut, **ERRORS},
                operation_id="model_get", tags=["openai"])
def model_get(request: HttpRequest, model: str) -> dict[str, Any]:
    return _model_data(model, openai_agent_get_for_user(user=request.user, model=model))


# ---------------------------------------------------------------- chat completions

@dataclass(frozen=True)
class _Head:
    """What the completion, or every chunk of its stream, repeats."""

    id: str
    created: int
    model: str

    @classmethod
    def new(cls, model: str) -> "_Head":
        return cls(id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=model)

    def body(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                **fields}


def _turn(message: ChatMessageIn) -> ChatTurn:
    content = message.content or ""
    text = content if isinstance(content, str) else "".join(part.text for part in content)
    role = "system" if message.role == "developer" else message.role
    return ChatTurn(role=role, content=text)


def _conversation_for_chat(request: HttpRequest,
                           payload: ChatCompletionIn) -> tuple[Conversation, str]:
    """The conversation holding the body's history, and the question to run."""
    history, question = openai_question_split([_turn(m) for m in payload.messages])
    agent = openai_agent_get_for_user(user=request.user, model=payload.model, write=True)
    conversation = openai_conversation_start(agent=agent, user=request.user, history=history)
    return conversation, question


def _usage(usage: Usage) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


@openai_api.post("/chat/completions", response={200: ChatCompletionOut, **ERRORS_RUN},
                 operation_id="chat_completion_create", tags=["openai"])
async def chat_completion_create(request: HttpRequest,
                                 payload: ChatCompletionIn) -> dict[str, Any] | HttpResponse:
    """Runs the agent on the last message; a `chat.completion`, or its chunks as SSE."""
    conversation, question = await sync_to_async(_conversation_for_chat)(request, payload)
    head = _Head.new(payload.model)
    if payload.stream:
        include_usage = bool(payload.stream_options and payload.stream_options.include_usage)
        return await _streaming_response(head, conversation, question, include_usage)
    run = await conversations.conversation_run(conversation=conversation, text=question)
    choice = {"index": 0, "message": {"role": "assistant", "content": run["answer"]},
              "finish_reason": "stop"}
    return head.body("chat.completion", choices=[choice], usage=_usage(Usage(**run["usage"])))


# ---------------------------------------------------------------- streaming

def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _chunk(head: _Head, delta: dict[str, str], finish_reason: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return _sse(head.body("chat.completion.chunk", choices=[choice]))


async def _streaming_response(head: _Head, conversation: Conversation, question: str,
                              include_usage: bool) -> HttpResponse:
    events = conversations.conversation_run_events(conversation=conversation, text=question)
    # The first event is awaited before answering, so a provider that refuses outright
    # (bad key, unknown model) is a 502 the client sees as such, not an error mid-stream.
    first = await anext(events)
    if isinstance(first, RunError):
        await events.aclose()
        raise ProviderError(first.message, status=first.status)
    response = StreamingHttpResponse(_chunks(head, first, events, include_usage),
                                     content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx must not buffer the stream
    return response


async def _chunks(head: _Head, first: RunEvent, events: AsyncIterator[RunEvent],
                  include_usage: bool) -> AsyncIterator[str]:
    # Closed however the stream ends, a client hanging up included, so the run stops too.
    async with aclosing(events):
        yield _chunk(head, {"role": "assistant", "content": ""})
        for frame in _frames(head, first, include_usage):
            yield frame
        try:
            async for event in events:
                for frame in _frames(head, event, include_usage):
                    yield frame
        except Exception as exc:  # the stream has started: the error must travel inside it
            logger.exception("OpenAI stream %s failed", head.id)
            yield _error_frame(getattr(exc, "message", None) or "Internal server error",
                               "server_error")


def _frames(head: _Head, event: RunEvent, include_usage: bool) -> list[str]:
    """What the client hears of one run event: tool calls and steps stay on the server."""
    if isinstance(event, TokenDelta):
        return [_chunk(head, {"content": event.text})]
    if isinstance(event, RunError):
        return [_error_frame(_provider_message(event.message, event.status), "provider_error")]
    if not isinstance(event, FinalAnswer):
        return []
    frames = [_chunk(head, {}, finish_reason="stop")]
    if include_usage:
        # As OpenAI does: one more chunk, without choices, carrying the run's usage.
        usage = _usage(event.usage)
        frames.append(_sse(head.body("chat.completion.chunk", choices=[], usage=usage)))
    return [*frames, "data: [DONE]\n\n"]


def _error_frame(message: str, code: str) -> str:
    # OpenAI clients raise an APIError for a frame whose data holds "error".
    return _sse({"error": {"message": message, "type": "server_error", "param": None,
                           "code": code}})
