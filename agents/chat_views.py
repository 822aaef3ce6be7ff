"""The chat pages: an agent's conversations, and one conversation with its live socket."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents import conversations, selectors
from agents.models import ToolExecution
from agents.rendering import markdown_html, tool_card_html
from oagweb.selectors import team_can_write
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
               "can_write": team_can_write(user=request.user, team_id=agent.team_id)}
    return render(request, "agents/chat.html", context)


@login_required
@require_http_methods(["GET"])
def conversation_page(request: HtmxHttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(user=request.user, id=conversation_id)
    shown = [{"role": message.role, "html": markdown_html(message.content),
              "images": len(message.parts),
              "cards": [_card(execution) for execution in message.tool_executions.all()]}
             for message in selectors.conversation_transcript(conversation=conversation)]
    context = {"conversation": conversation, "agent": conversation.agent, "messages": shown,
               "others": selectors.conversation_list(agent=conversation.agent)[:50],
               "can_write": team_can_write(user=request.user,
                                            team_id=conversation.team_id)}
    return render(request, "agents/conversation.html", context)


def _card(execution: ToolExecution) -> str:
    return tool_card_html(call_id=execution.call_id, name=execution.tool_name,
                          arguments=execution.arguments, finished=True, result=execution.result,
                          error=execution.error, duration_ms=execution.duration_ms)
