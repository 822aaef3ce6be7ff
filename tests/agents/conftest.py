from collections.abc import Iterator

import pytest

from tests.agents.llm_server import ScriptedLLM


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A started scripted OpenAI-compatible server; `script()` its replies."""
    with ScriptedLLM() as server:
        yield server
