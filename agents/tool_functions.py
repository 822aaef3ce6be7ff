"""A team's tools as plain functions, for callers outside a chat (production rules' `call`)."""

import asyncio
import json
from collections.abc import Callable, Iterable

from agents.conversations import tool_build
from agents.models import Tool as ToolRow
from agents.runtime.loop import tool_call_execute
from agents.runtime.tools import Tool


def tool_functions(*, team_id: int, names: Iterable[str]) -> dict[str, Callable[..., str]]:
    """The team's tools of those names; a call's values fill the tool's parameters in order."""
    rows = ToolRow.objects.filter(team_id=team_id, name__in=set(names))
    return {row.name: _function(tool_build(row), row.timeout_seconds) for row in rows}


def _function(tool: Tool, timeout: float) -> Callable[..., str]:
    parameters = list(tool.schema().get("properties", {}))

    def call(*values: object) -> str:
        if len(values) > len(parameters):
            raise TypeError(f"{tool.name} takes {len(parameters)} arguments "
                            f"({', '.join(parameters)}), not {len(values)}")
        arguments = json.dumps(dict(zip(parameters, values)))
        # Called from sync code (a Celery job) with no event loop of its own.
        finished = asyncio.run(tool_call_execute(tool, arguments=arguments, timeout=timeout))
        if finished.error is not None:
            raise RuntimeError(finished.error)
        return finished.result

    return call
