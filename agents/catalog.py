"""The Python tools a team can add: the built-ins plus those installed packages publish
under the `oagweb.tools` entry-point group (discovered once per process)."""

from functools import cache

from agents.runtime.builtin import CalculatorTool, CurrentTimeTool
from agents.runtime.tools import Tool, tools_discover
from oagweb.errors import ApplicationError

BUILTIN_TOOLS: tuple[type[Tool], ...] = (CurrentTimeTool, CalculatorTool)


@cache
def python_tools() -> dict[str, Tool]:
    """Built-ins first: an installed package cannot replace one of them."""
    found = {tool.name: tool for tool in tools_discover()}
    return found | {cls.name: cls() for cls in BUILTIN_TOOLS}


def python_tool_get(name: str) -> Tool:
    tool = python_tools().get(name)
    if tool is None:
        known = ", ".join(sorted(python_tools()))
        raise ApplicationError(f"No Python tool named {name!r}; installed: {known}")
    return tool
