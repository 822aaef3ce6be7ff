"""What a run tells its caller as it goes: typed, immutable events (pure core)."""

from dataclasses import dataclass, field
from typing import Literal

from agents.providers.base import Message, Usage


@dataclass(frozen=True)
class TokenDelta:
    """A piece of the assistant's text, as the model streams it."""

    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    call_id: str
    name: str
    arguments: str  # the raw JSON text the model wrote, malformed or not


@dataclass(frozen=True)
class ToolCallFinished:
    call_id: str
    name: str
    arguments: str
    result: str  # exactly what went back to the model: output (maybe truncated) or "Error: ..."
    error: str | None  # None when the tool ran and returned
    duration_ms: float


@dataclass(frozen=True)
class TraceStep:
    """One model turn: the assistant message and the tool messages that answered it."""

    index: int  # 1-based
    assistant: Message
    tool_calls: tuple[ToolCallFinished, ...] = ()
    tool_messages: tuple[Message, ...] = ()
    usage: Usage = field(default_factory=Usage)

    @property
    def messages(self) -> tuple[Message, ...]:
        return (self.assistant, *self.tool_messages)


@dataclass(frozen=True)
class StepFinished:
    """A turn is complete; its messages are final and may be persisted now."""

    step: TraceStep


@dataclass(frozen=True)
class FinalAnswer:
    text: str
    usage: Usage  # summed over every model turn of the run


@dataclass(frozen=True)
class RunError:
    """The run ended without an answer. `status` is the provider's HTTP status, 0 if none."""

    message: str
    status: int = 0
    kind: Literal["provider", "step_limit"] = "provider"


RunEvent = TokenDelta | ToolCallStarted | ToolCallFinished | StepFinished | FinalAnswer | RunError
