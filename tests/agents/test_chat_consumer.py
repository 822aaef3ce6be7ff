"""The chat socket against the scripted provider: tokens stream, tool cards, stop, images."""

import base64
import io

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from PIL import Image

from agents.models import Message
from oagweb.asgi import application
from oagweb.models import Role
from tests.agents.factories import ConversationFactory, ProviderConnectionFactory, ToolFactory
from tests.agents.llm_server import Reply
from tests.conftest import member_of
from tests.oagweb.test_consumers import ORIGIN, _session_cookie

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


@sync_to_async
def _conversation(owner, llm_server):
    provider = ProviderConnectionFactory(team=owner.team, base_url=llm_server.base_url)
    conversation = ConversationFactory(agent__team=owner.team, agent__provider=provider)
    conversation.agent.tools.add(ToolFactory(team=owner.team))
    return conversation


async def _socket(conversation_id: int, user) -> WebsocketCommunicator:
    cookie = await sync_to_async(_session_cookie)(user)
    socket = WebsocketCommunicator(application, f"/ws/conversations/{conversation_id}/",
                                   headers=[ORIGIN, cookie])
    connected, code = await socket.connect()
    assert connected, code
    return socket


async def _until(socket, kind: str) -> list[dict]:
    received = []
    while not received or received[-1]["type"] != kind:
        received.append(await socket.receive_json_from(timeout=10))
    return received


async def test_it_streams_tokens_and_tool_cards_and_persists_the_turn(owner, llm_server):
    conversation = await _conversation(owner, llm_server)
    llm_server.script(Reply(tool_calls=[("calculator", {"expression": "6*7"})]),
                      Reply(text="It is **42**.", chunk_chars=2))
    socket = await _socket(conversation.pk, owner)
    await socket.send_json_to({"type": "send", "text": "What is 6*7?"})
    events = await _until(socket, "final")
    kinds = [event["type"] for event in events]
    assert kinds[0] == "user" and kinds[-1] == "final"
    assert kinds.index("tool_started") < kinds.index("tool_finished") < kinds.index("token")
    tokens = [event["text"] for event in events if event["type"] == "token"]
    assert len(tokens) >= 5 and "".join(tokens) == "It is **42**."  # one by one, in order
    finished = next(event for event in events if event["type"] == "tool_finished")
    assert "calculator" in finished["html"] and "42" in finished["html"]
    assert events[-1]["html"] == "<p>It is <strong>42</strong>.</p>"
    roles = await sync_to_async(lambda: list(
        Message.objects.filter(conversation=conversation).values_list("role", flat=True)))()
    assert roles == ["user", "assistant", "tool", "assistant"]
    await socket.disconnect()


async def test_it_stops_a_generation_at_once_and_keeps_what_was_said(owner, llm_server):
    conversation = await _conversation(owner, llm_server)
    llm_server.script(Reply(text="word " * 200, chunk_chars=5, chunk_delay=0.05))
    socket = await _socket(conversation.pk, owner)
    await socket.send_json_to({"type": "send", "text": "Talk a lot"})
    await _until(socket, "token")
    await _until(socket, "token")
    await socket.send_json_to({"type": "stop"})
    events = await _until(socket, "stopped")
    assert len(events) < 10  # at once: not after the remaining 190-odd tokens
    assert await socket.receive_nothing(timeout=0.5)
    saved = await sync_to_async(lambda: Message.objects.filter(
        conversation=conversation, role="assistant").get().content)()
    assert saved.startswith("word word") and len(saved) < 200 * 5
    await socket.disconnect()


async def test_it_sends_the_provider_error_to_the_user(owner, llm_server):
    conversation = await _conversation(owner, llm_server)
    llm_server.script(Reply(status=401, error_message="API key invalid"))
    socket = await _socket(conversation.pk, owner)
    await socket.send_json_to({"type": "send", "text": "hi"})
    events = await _until(socket, "error")
    assert "API key invalid" in events[-1]["message"] and events[-1]["status"] == 401
    await socket.disconnect()


def _png(size=(8, 8)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


async def test_it_passes_an_image_to_a_vision_model(owner, llm_server):
    conversation = await _conversation(owner, llm_server)
    llm_server.script(Reply(text="A red square."))
    socket = await _socket(conversation.pk, owner)
    await socket.send_json_to({"type": "send", "text": "What is this?", "image": _png()})
    await _until(socket, "final")
    parts = llm_server.requests[0]["messages"][-1]["content"]
    image = next(part for part in parts if part["type"] == "image_url")
    assert image["image_url"]["url"] == _png()  # GLM: raw base64, no data: prefix
    await socket.disconnect()


@pytest.mark.parametrize(("image", "says"), [
    (base64.b64encode(b"not an image").decode(), "not an image"),
    ("%%%", "not valid base64"),
    (base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode(), "larger than 5 MB"),
])
async def test_it_refuses_a_bad_image(owner, llm_server, image, says):
    conversation = await _conversation(owner, llm_server)
    socket = await _socket(conversation.pk, owner)
    await socket.send_json_to({"type": "send", "text": "look", "image": image})
    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "error" and says in event["message"]
    assert llm_server.requests == []
    await socket.disconnect()


async def test_it_lets_viewers_watch_but_not_chat(owner, llm_server):
    conversation = await _conversation(owner, llm_server)
    viewer = await sync_to_async(member_of)(owner.team, Role.VIEWER)
    socket = await _socket(conversation.pk, viewer)
    await socket.send_json_to({"type": "send", "text": "hi"})
    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "error" and "read-only" in event["message"]
    await socket.disconnect()


async def test_it_closes_a_socket_to_another_teams_conversation(owner, stranger, llm_server):
    conversation = await _conversation(owner, llm_server)
    cookie = await sync_to_async(_session_cookie)(stranger)
    socket = WebsocketCommunicator(application, f"/ws/conversations/{conversation.pk}/",
                                   headers=[ORIGIN, cookie])
    connected, code = await socket.connect()
    assert not connected and code == 4404
    # Without it the consumer's task outlives the test, and closing the shared event loop at
    # the end of the module can wait on it for ever.
    await socket.disconnect()
