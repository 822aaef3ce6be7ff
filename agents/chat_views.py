"""The chat pages: an agent's conversations, and one conversation with its live socket."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents import conversations, selectors
from agents.models import ToolExecution
from agents.rendering import markdown_html
from oagweb.selectors import team_access_check
from oagweb.views import HtmxHttpRequest


@login_required
@require_http_methods(["GET", "POST"])
def agent_chat_page(request: HtmxHttpRequest, agent_id: int) -> HttpResponse:
    """GET: the agent's conversations. POST: starts a new one and opens it."""
    agent = selectors.agent_get_for_user(user=request.user, id=agent_id,
                                         write=request.method == "POST")
    if request.method == "POST":
        conversation = conversations.conversation_start(agent=agent, user=request.user)
        return redirect("conversation", conversation_id=conversation.pk)
    context = {"agent": agent, "conversations": selectors.conversation_list(agent=agent)[:50],
               "can_write": _can_write(request, agent.team_id)}
    return render(request, "agents/chat.html", context)


@login_required
@require_http_methods(["GET"])
def conversation_page(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(user=request.user, id=conversation_id)
    executions: dict[int, list] = {}
    for execution in conversation.tool_executions.all():
        executions.setdefault(execution.message_id, []).append(execution)
    shown = []
    for message in conversation.messages.all():
        if message.role == "tool":
            continue  # shown inside its call's card
        calls = [_card(execution) for execution in executions.get(message.pk, [])]
        shown.append({"role": message.role, "html": markdown_html(message.content),
                      "images": len(message.parts), "calls": calls})
    context = {"conversation": conversation, "agent": conversation.agent, "messages": shown,
               "others": selectors.conversation_list(agent=conversation.agent)[:50],
               "can_write": _can_write(request, conversation.team_id)}
    return render(request, "agents/conversation.html", context)


def _card(execution: ToolExecution) -> dict:
    try:
        arguments = json.dumps(execution.arguments, ensure_ascii=False, indent=1)
    except (TypeError, ValueError):
        arguments = str(execution.arguments)
    return {"call_id": execution.call_id, "name": execution.tool_name, "arguments": arguments,
            "finished": True, "result": execution.result, "error": execution.error or None,
            "duration_ms": execution.duration_ms}


def _can_write(request: HtmxHttpRequest, team_id: int) -> bool:
    try:
        team_access_check(user=request.user, team_id=team_id, write=True)
    except PermissionDenied:
        return False
    return True
