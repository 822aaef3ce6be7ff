"""Trying a team's tool once from its page, with the arguments a user typed as JSON."""

import asyncio
from typing import Any

from agents.conversations import tool_build
from agents.models import Tool as ToolRow
from agents.runtime.loop import tool_call_execute
from oagweb.errors import ApplicationError


def tool_try(*, tool_row: ToolRow, arguments_json: str) -> dict[str, Any]:
    """Runs the tool once as an agent's run would (an HTTP tool does send its request)."""
    try:
        tool = tool_build(tool_row)
    except ApplicationError as exc:
        return {"result": None, "error": exc.message, "duration_ms": 0}
    # Views are sync: the request's thread has no event loop of its own to borrow.
    finished = asyncio.run(tool_call_execute(tool, arguments=arguments_json,
                                             timeout=tool_row.timeout_seconds))
    return {"result": None if finished.error else finished.result, "error": finished.error,
            "duration_ms": round(finished.duration_ms)}
