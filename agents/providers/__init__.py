"""Model providers (pure core: no Django). `provider_for` picks one for a model name."""

import os

from agents.providers.base import ProviderError
from agents.providers.openai_compat import OpenAICompatProvider
from agents.providers.profiles import GENERIC, GLM, GLM_BASE_URL

__all__ = ["OpenAICompatProvider", "ProviderConfigError", "provider_for"]

# The variables the official zhipuai SDK reads, so one setup serves both.
GLM_KEY_VARIABLE = "ZHIPUAI_API_KEY"
GLM_BASE_URL_VARIABLE = "ZHIPUAI_BASE_URL"
GENERIC_KEY_VARIABLE = "OAG_LLM_API_KEY"
GENERIC_BASE_URL_VARIABLE = "OAG_LLM_BASE_URL"


class ProviderConfigError(ProviderError):
    """No provider can be built: a key or base URL is missing. Names the variable to set."""


def provider_for(
    model: str, *, base_url: str | None = None, api_key: str | None = None,
) -> OpenAICompatProvider:
    """The provider serving `model`: GLM for `glm-*`, the configured OpenAI-compatible server
    otherwise. Explicit arguments win over the environment."""
    if model.lower().startswith("glm-"):
        key = api_key or _required(GLM_KEY_VARIABLE, purpose=f"the GLM model {model!r}")
        url = base_url or os.environ.get(GLM_BASE_URL_VARIABLE) or GLM_BASE_URL
        return OpenAICompatProvider(url, key, GLM)
    purpose = f"the model {model!r} (any OpenAI-compatible server)"
    url = base_url or _required(GENERIC_BASE_URL_VARIABLE, purpose=purpose)
    # Servers without auth (Ollama, llama.cpp) still need a non-empty placeholder key.
    key = api_key or _required(
        GENERIC_KEY_VARIABLE, purpose=f"{purpose}; any value will do for a server without auth",
    )
    return OpenAICompatProvider(url, key, GENERIC)


def _required(variable: str, *, purpose: str) -> str:
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ProviderConfigError(f"{variable} is not set: set it to use {purpose}")
    return value
