"""WebSocket consumers. They authenticate, check team access, join groups and forward."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime

from oagweb.events import team_group
from oagweb.selectors import team_get_for_user

# Application close codes (4000-4999): the browser sees why the socket was refused.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class TeamConsumer(AsyncJsonWebsocketConsumer):
    """Base for team-scoped sockets: a logged-in member of the team in the URL, or closed."""

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        team_id = int(self.scope["url_route"]["kwargs"]["team_id"])
        try:
            self.team = await database_sync_to_async(team_get_for_user)(user=user, id=team_id)
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = team_group(self.team.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def oagweb_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])


class ActivityConsumer(TeamConsumer):
    """The dashboard's live feed: job events as HTML fragments for htmx's ws extension.

    With `?format=json` it sends the events themselves, for scripts.
    """

    async def oagweb_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if b"format=json" in self.scope.get("query_string", b""):
            await self.send_json(event)
        elif event["type"] == "oagweb.job_changed":
            await self.send(text_data=activity_item_html(event["data"]))


def activity_item_html(data: dict[str, Any]) -> str:
    job = {**data, "created_at": parse_datetime(data["created_at"] or "")}
    return render_to_string("oagweb/dashboard.html#activity-push", {"job": job})
