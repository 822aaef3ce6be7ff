import pytest

from agents.models import Message
from tests.agents.factories import API_KEY, ConversationFactory, ToolFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["providerconnection", "tool", "agent", "conversation"])
def test_it_lists_and_searches_in_every_admin(staff_client, model):
    conversation = ConversationFactory(title="about weather")
    ToolFactory(team=conversation.team)
    Message.objects.create(conversation=conversation, role="user", content="rain?")
    url = f"/admin/agents/{model}/"
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "weather"}).status_code == 200


def test_it_masks_provider_keys_and_keeps_conversations_read_only(staff_client):
    conversation = ConversationFactory()
    provider = conversation.agent.provider
    page = staff_client.get(f"/admin/agents/providerconnection/{provider.pk}/change/")
    assert API_KEY[-4:] in page.content.decode() and API_KEY not in page.content.decode()
    assert provider.api_key_encrypted not in page.content.decode()
    view = staff_client.get(f"/admin/agents/conversation/{conversation.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()


def test_it_tries_a_tool_from_the_admin(staff_client):
    tool = ToolFactory()
    change = staff_client.get(f"/admin/agents/tool/{tool.pk}/change/").content.decode()
    assert f"/admin/agents/tool/{tool.pk}/try/" in change
    ran = staff_client.post(f"/admin/agents/tool/{tool.pk}/try/",
                            {"arguments": '{"expression": "2**10"}'}).content.decode()
    assert '<pre id="tool-outcome">1024</pre>' in ran
    failed = staff_client.post(f"/admin/agents/tool/{tool.pk}/try/",
                               {"arguments": '{"expression": "1/0"}'}).content.decode()
    assert "Error" in failed and "division by zero" in failed.lower()
