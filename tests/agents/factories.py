import factory

from agents.models import Agent, Conversation, ProviderConnection, ProviderProfile, Tool, ToolKind
from oagweb.encryption import secret_encrypt, secret_hint
from tests.oagweb.factories import TeamFactory

API_KEY = "sk-test-0123456789abcdef"


class ProviderConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderConnection

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"provider-{n}")
    profile = ProviderProfile.GLM
    base_url = "http://127.0.0.1:9/v1"
    model_names = factory.LazyFunction(lambda: ["glm-4"])
    api_key_encrypted = factory.LazyFunction(lambda: secret_encrypt(API_KEY))
    api_key_hint = secret_hint(API_KEY)


class ToolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tool

    team = factory.SubFactory(TeamFactory)
    name = "calculator"
    description = "Evaluates arithmetic"
    kind = ToolKind.BUILTIN
    target = "calculator"


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Agent {n}")
    slug = factory.Sequence(lambda n: f"agent-{n}")
    provider = factory.SubFactory(ProviderConnectionFactory, team=factory.SelfAttribute("..team"))
    model_name = "glm-4"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    agent = factory.SubFactory(AgentFactory)
    team = factory.SelfAttribute("agent.team")
