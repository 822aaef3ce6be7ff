"""The chat socket: a user's message in, the agent's run streamed out as it happens.

The run executes here, in the ASGI process, as a task per socket: `stop` cancels it at once.
Client → server: {"type": "send", "text": str, "image": base64 str?} | {"type": "stop"}.
Server → client: user, token, tool_started, tool_finished, final, error, stopped (JSON).
"""

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from agents import conversations, images, selectors
from agents.models import Conversation
from agents.rendering import markdown_html, tool_card_html
from agents.runtime.events import (
    FinalAnswer,
    RunError,
    RunEvent,
    TokenDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from oagweb.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from oagweb.errors import ApplicationError
from oagweb.selectors import team_access_check


class ChatConsumer(AsyncJsonWebsocketConsumer):
    run: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        try:
            self.conversation: Conversation = await database_sync_to_async(
                selectors.conversation_get_for_user)(user=user, id=conversation_id)
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.partial = ""
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._stop()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "stop":
            await self._stop()
        elif kind == "send":
            await self._send_message(content)
        else:
            await self.send_json({"type": "error", "message": f"Unknown message type {kind!r}"})

    async def _send_message(self, content: dict[str, Any]) -> None:
        if self.run is not None and not self.run.done():
            await self.send_json({"type": "error", "message": "The agent is still answering"})
            return
        try:
            # Not database_sync_to_async: channels closed stale connections before this message
            # already, and closing again here would make the run reopen one (~0.7 ms on SQLite).
            await sync_to_async(team_access_check)(
                user=self.scope["user"], team_id=self.conversation.team_id, write=True)
            attached = ([images.image_part_parse(data_b64=content["image"])]
                        if content.get("image") else [])
        except (PermissionDenied, ApplicationError) as exc:
            await self.send_json({"type": "error", "message": getattr(exc, "message", str(exc))})
            return
        text = str(content.get("text", ""))
        await self.send_json({"type": "user", "html": markdown_html(text),
                              "images": len(attached)})
        self.run = asyncio.create_task(self._run(text, attached))

    async def _run(self, text: str, attached: list) -> None:
        self.partial = ""
        try:
            events = conversations.conversation_run_events(
                conversation=self.conversation, text=text, images=attached)
            async for event in events:
                await self._forward(event)
        except ApplicationError as exc:
            await self.send_json({"type": "error", "message": exc.message})

    async def _forward(self, event: RunEvent) -> None:
        if isinstance(event, TokenDelta):
            self.partial += event.text
            await self.send_json({"type": "token", "text": event.text})
            # daphne (Twisted) writes a frame only when the loop runs; a model's tokens often
            # come several to a read, and without yielding they would all wait for the last.
            await asyncio.sleep(0)
        elif isinstance(event, ToolCallStarted):
            self.partial = ""  # text before a tool call was the model thinking aloud
            html = tool_card_html(call_id=event.call_id, name=event.name,
                                  arguments=event.arguments, finished=False)
            await self.send_json({"type": "tool_started", "call_id": event.call_id,
                                  "html": html})
        elif isinstance(event, ToolCallFinished):
            html = tool_card_html(call_id=event.call_id, name=event.name,
                                  arguments=event.arguments, finished=True,
                                  result=event.result, error=event.error,
                                  duration_ms=event.duration_ms)
            await self.send_json({"type": "tool_finished", "call_id": event.call_id,
                                  "html": html})
        elif isinstance(event, FinalAnswer):
            self.partial = ""
            await self.send_json({"type": "final", "html": markdown_html(event.text)})
        elif isinstance(event, RunError):
            await self.send_json({"type": "error", "message": event.message,
                                  "status": event.status})

    async def _stop(self) -> None:
        run, self.run = self.run, None
        if run is None or run.done():
            return
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
        await database_sync_to_async(conversations.conversation_stopped_save)(
            conversation=self.conversation, partial_text=self.partial)
        try:
            await self.send_json({"type": "stopped"})
        except Exception:  # the socket may be the thing that closed
            pass

