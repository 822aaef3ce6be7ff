import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from oagweb.asgi import application
from oagweb.events import publish_job_changed
from tests.oagweb.factories import JobFactory

ORIGIN = (b"origin", b"http://localhost")

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


def _session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _socket(team_id: int, user=None, query: str = "", origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if user is not None:
        headers.append(await sync_to_async(_session_cookie)(user))
    path = f"/ws/teams/{team_id}/activity/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


async def test_it_refuses_anonymous_sockets(owner):
    socket = await _socket(owner.team.pk)
    connected, code = await socket.connect()
    assert (connected, code) == (False, 4401)
    await socket.disconnect()


async def test_it_refuses_a_foreign_team(owner, stranger):
    socket = await _socket(stranger.team.pk, user=owner)
    connected, code = await socket.connect()
    assert (connected, code) == (False, 4404)
    await socket.disconnect()


async def test_it_refuses_a_socket_without_origin(owner):
    socket = await _socket(owner.team.pk, user=owner, origin=None)
    connected, _ = await socket.connect()
    assert connected is False
    await socket.disconnect()


async def test_it_pushes_job_changes_as_html_fragments(owner):
    socket = await _socket(owner.team.pk, user=owner)
    assert (await socket.connect())[0]
    job = await sync_to_async(JobFactory)(team=owner.team, message="Waiting for a worker")
    await sync_to_async(publish_job_changed)(job, created=True)
    html = await socket.receive_from(timeout=5)
    assert 'hx-swap-oob="afterbegin:#activity-feed"' in html
    assert f'id="job-{job.pk}"' in html and "Waiting for a worker" in html
    await socket.disconnect()


async def test_it_pushes_updates_in_place_and_as_json(owner):
    html_socket = await _socket(owner.team.pk, user=owner)
    json_socket = await _socket(owner.team.pk, user=owner, query="format=json")
    assert (await html_socket.connect())[0] and (await json_socket.connect())[0]
    job = await sync_to_async(JobFactory)(team=owner.team, status="running", progress=0.5)
    await sync_to_async(publish_job_changed)(job)
    html = await html_socket.receive_from(timeout=5)
    event = json.loads(await json_socket.receive_from(timeout=5))
    assert f'<li id="job-{job.pk}"' in html and 'hx-swap-oob="true"' in html
    assert event["type"] == "oagweb.job_changed"
    assert event["data"]["id"] == job.pk and event["data"]["progress"] == 0.5
    await html_socket.disconnect()
    await json_socket.disconnect()


async def test_it_keeps_teams_apart(owner, stranger):
    socket = await _socket(owner.team.pk, user=owner)
    assert (await socket.connect())[0]
    theirs = await sync_to_async(JobFactory)(team=stranger.team)
    await sync_to_async(publish_job_changed)(theirs)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_it_keeps_an_idle_socket_open(owner):
    # Idle for longer than channels-redis's 5 s blocking read: the socket must survive it.
    socket = await _socket(owner.team.pk, user=owner)
    assert (await socket.connect())[0]
    assert await socket.receive_nothing(timeout=12, interval=0.5)
    job = await sync_to_async(JobFactory)(team=owner.team)
    await sync_to_async(publish_job_changed)(job)
    assert f'id="job-{job.pk}"' in await socket.receive_from(timeout=5)
    await socket.disconnect()
