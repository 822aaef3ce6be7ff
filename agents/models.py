from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from oagweb.models import Team


class ProviderProfile(models.TextChoices):
    GLM = "glm", _("GLM (Zhipu AI)")
    OPENAI_COMPATIBLE = "openai", _("OpenAI-compatible (OpenAI, vLLM, Ollama, llama.cpp)")


class ProviderConnection(models.Model):
    """Where a team's models are served. The API key is stored encrypted, or named by env var."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="provider_connections")
    name = models.CharField(max_length=100)
    profile = models.CharField(max_length=10, choices=ProviderProfile.choices)
    base_url = models.URLField(max_length=500)
    model_names = models.JSONField(default=list, blank=True)
    api_key_encrypted = models.TextField(blank=True)
    api_key_hint = models.CharField(max_length=8, blank=True)
    api_key_env = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="provider_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class ToolKind(models.TextChoices):
    BUILTIN = "builtin", _("Built-in")
    PYTHON = "python", _("Python (installed package)")
    HTTP = "http", _("HTTP request")


class Tool(models.Model):
    """A function an agent may call. HTTP tools keep their header values encrypted."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tools")
    name = models.CharField(max_length=64)
    description = models.TextField()
    kind = models.CharField(max_length=10, choices=ToolKind.choices)
    # builtin / python: the registered tool's name; http: empty.
    target = models.CharField(max_length=200, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    http_method = models.CharField(max_length=7, blank=True)
    url_template = models.URLField(max_length=1000, blank=True)
    headers_encrypted = models.TextField(blank=True)
    timeout_seconds = models.FloatField(default=30.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="tool_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    provider = models.ForeignKey(
        ProviderConnection, on_delete=models.PROTECT, related_name="agents"
    )
    model_name = models.CharField(max_length=100)
    system_prompt = models.TextField(blank=True)
    temperature = models.FloatField(null=True, blank=True)
    max_steps = models.PositiveSmallIntegerField(default=8)
    tools = models.ManyToManyField(Tool, blank=True, related_name="agents")
    # Gives the agent the built-in tool query_knowledge_base over this rule set.
    knowledge_base = models.ForeignKey(
        "reasoning.RuleSet", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="agents",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "slug"], name="agent_unique_team_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="conversations")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="conversations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"Conversation #{self.pk}"


class MessageRole(models.TextChoices):
    SYSTEM = "system", _("System")
    USER = "user", _("User")
    ASSISTANT = "assistant", _("Assistant")
    TOOL = "tool", _("Tool")


class Message(models.Model):
    """One message of a conversation, in order. `parts` holds images: [{"mime", "data_b64"}]."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=MessageRole.choices)
    content = models.TextField(blank=True)
    parts = models.JSONField(default=list, blank=True)
    tool_calls = models.JSONField(default=list, blank=True)
    tool_call_id = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ToolExecution(models.Model):
    """One call of a tool during a run: what went in, what came out, how long it took."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="tool_executions"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="tool_executions"
    )
    call_id = models.CharField(max_length=100)
    tool_name = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.tool_name} ({self.call_id})"


class AllowedHost(models.Model):
    """A host the team's HTTP tools may reach although it resolves to a private address."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="allowed_hosts")
    host = models.CharField(max_length=253)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["host"]
        constraints = [
            models.UniqueConstraint(fields=["team", "host"], name="allowed_host_unique_team_host")
        ]

    def __str__(self) -> str:
        return self.host
