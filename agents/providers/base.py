"""The provider interface the function-calling runtime talks to (pure core: no Django).

A provider turns a list of messages and tool declarations into a stream of events: text
deltas as the model produces them, then one `Completion` that carries the whole assistant
turn with its tool calls already reassembled from their fragments.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ImagePart:
    """An image in a user message: raw bytes and their MIME type (image/png, image/jpeg…)."""

    data: bytes
    mime_type: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the raw JSON text the model produced; the runtime parses and validates it


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    images: tuple[ImagePart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # on role "tool": the call this result answers


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: name, description and JSON Schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Completion:
    """The end of one model turn."""

    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)


ProviderEvent = TextDelta | Completion


class ProviderError(Exception):
    """The provider refused or failed. `status` is the HTTP status (0: no answer at all)."""

    def __init__(self, message: str, *, status: int = 0, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable


class Provider(Protocol):
    def stream(
        self, *, model: str, messages: list[Message], tools: list[ToolSpec],
        temperature: float | None = None, max_tokens: int | None = None,
    ) -> AsyncIterator[ProviderEvent]:
        """Yields TextDelta events, then exactly one Completion; raises ProviderError."""
        ...
