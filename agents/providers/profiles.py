"""What differs between OpenAI-compatible servers, as data (pure core: no Django).

GLM speaks the OpenAI wire protocol with a few strict spots (see GLM_API_NOTES.md); generic
servers (OpenAI, vLLM, Ollama, llama.cpp) take the protocol as OpenAI defines it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    default_base_url: str | None
    # Sent with every request that declares tools; None leaves it out (the server's default).
    tool_choice: str | None
    # Sampling values are clamped into this closed range; None sends them as given.
    sampling_range: tuple[float, float] | None
    # True: images as `data:<mime>;base64,...` URLs; False: bare base64.
    image_data_urls: bool
    # Ask for a usage chunk with stream_options; servers that reject it get usage unasked.
    stream_usage_option: bool

    def clamp_sampling(self, value: float) -> float:
        if self.sampling_range is None:
            return value
        low, high = self.sampling_range
        return min(max(value, low), high)


GLM_BASE_URL = "https://open.bigmodel.cn/api/paas/v4/"

GLM = Profile(
    name="glm",
    default_base_url=GLM_BASE_URL,
    # GLM answers any other tool_choice with 400 "Tool choice must be auto".
    tool_choice="auto",
    # GLM wants temperature and top_p strictly inside (0, 1), as its own SDK clamps them.
    sampling_range=(0.01, 0.99),
    # GLM-4V rejects the data: prefix on base64 images.
    image_data_urls=False,
    # Not documented for GLM, and GLM puts usage on its last chunk without being asked.
    stream_usage_option=False,
)

GENERIC = Profile(
    name="generic",
    default_base_url=None,
    tool_choice=None,
    sampling_range=None,
    image_data_urls=True,
    stream_usage_option=True,
)
