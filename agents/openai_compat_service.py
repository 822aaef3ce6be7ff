"""Agents seen as OpenAI models: model ids, their lookup, and chat bodies made conversations.

A model id is the agent's slug. When two of the user's teams have an agent with the same
slug, the slug alone is ambiguous: those agents are listed as `<team-slug>/<agent-slug>`,
and the qualified form is accepted for every agent.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from agents.conversations import conversation_start
from agents.models import Agent, Conversation, Message
from agents.selectors import agent_get_for_user
from oagweb.errors import ApplicationError, NotFound

QUALIFIER = "/"  # neither a team slug nor an agent slug can hold one


class ModelNotFound(NotFound):
    """No single agent of the user's teams answers to the requested model id."""

    code = "model_not_found"


@dataclass(frozen=True)
class ChatTurn:
    """One message of an OpenAI chat body, reduced to what a conversation stores."""

    role: Literal["system", "user", "assistant"]
    content: str


def _model_id(agent: Agent, *, qualified: bool) -> str:
    return f"{agent.team.slug}{QUALIFIER}{agent.slug}" if qualified else agent.slug


def openai_model_list(*, user: AbstractBaseUser) -> list[tuple[str, Agent]]:
    """(model id, agent) for every agent of the user's teams, qualified where ambiguous."""
    agents = list(Agent.objects.filter(team__memberships__user=user)
                  .select_related("team").order_by("slug", "team__slug"))
    slugs = Counter(agent.slug for agent in agents)
    return [(_model_id(agent, qualified=slugs[agent.slug] > 1), agent) for agent in agents]


def openai_agent_get_for_user(
    *, user: AbstractBaseUser, model: str, write: bool = False
) -> Agent:
    """The agent a model id names; ModelNotFound if none or several, 403 for viewers writing."""
    team_slug, _, agent_slug = model.rpartition(QUALIFIER)
    matches = Agent.objects.filter(slug=agent_slug, team__memberships__user=user)
    if team_slug:
        matches = matches.filter(team__slug=team_slug)
    found = list(matches.select_related("team"))
    if not found:
        raise ModelNotFound(f"The model {model!r} does not exist or you do not have access "
                            "to it")
    if len(found) > 1:
        choices = ", ".join(repr(_model_id(agent, qualified=True)) for agent in found)
        raise ModelNotFound(f"The model {model!r} is ambiguous: use one of {choices}")
    # The one access helper decides, so viewers get the same 403 as on the runs endpoint.
    return agent_get_for_user(user=user, id=found[0].pk, write=write)


def openai_question_split(turns: list[ChatTurn]) -> tuple[list[ChatTurn], str]:
    """(earlier turns, the question): the last message is the input and must be the user's."""
    if not turns or turns[-1].role != "user" or not turns[-1].content.strip():
        raise ApplicationError("The last message must be a non-empty user message: it is the "
                               "agent's input")
    return turns[:-1], turns[-1].content


@transaction.atomic
def openai_conversation_start(
    *, agent: Agent, user: AbstractBaseUser, history: list[ChatTurn]
) -> Conversation:
    """Creates a conversation holding the caller's earlier turns; the run adds the question."""
    first_question = next((turn.content for turn in history if turn.role == "user"), "")
    conversation = conversation_start(agent=agent, user=user, title=first_question.strip())
    Message.objects.bulk_create(
        Message(conversation=conversation, role=turn.role, content=turn.content)
        for turn in history
    )
    return conversation
