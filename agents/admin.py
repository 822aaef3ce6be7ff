from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html

from agents.models import (
    Agent,
    AllowedHost,
    Conversation,
    Message,
    ProviderConnection,
    Tool,
    ToolExecution,
)
from agents.tool_trials import tool_try


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(admin.ModelAdmin):
    """Keys are set through the dashboard or the API, where they are encrypted; here only
    their hint shows."""

    list_display = ["name", "team", "profile", "base_url", "api_key_hint", "api_key_env"]
    list_filter = ["profile", "team"]
    search_fields = ["name", "base_url", "team__name"]
    exclude = ["api_key_encrypted"]
    readonly_fields = ["api_key_hint"]


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "target", "http_method", "url_template", "try_link"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "description", "team__name"]
    exclude = ["headers_encrypted"]
    readonly_fields = ["try_link"]

    @admin.display(description="Try")
    def try_link(self, tool: Tool) -> str:
        if tool.pk is None:
            return "-"
        return format_html('<a href="{}">Try it with sample arguments</a>',
                           reverse("admin:agents_tool_try", args=[tool.pk]))

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.try_view)
        return [path("<int:tool_id>/try/", view, name="agents_tool_try"), *super().get_urls()]

    def try_view(self, request: HttpRequest, tool_id: int) -> HttpResponse:
        """Runs the tool once, as an agent would, with the arguments typed in."""
        tool = get_object_or_404(Tool, pk=tool_id)
        arguments = request.POST.get("arguments", "{}")
        outcome = None
        if request.method == "POST":
            outcome = tool_try(tool_row=tool, arguments_json=arguments)
        context = {**self.admin_site.each_context(request), "tool": tool, "opts": self.model._meta,
                   "arguments": arguments, "outcome": outcome, "title": f"Try {tool.name}"}
        return render(request, "admin/agents/tool/try.html", context)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team", "provider", "model_name", "max_steps"]
    list_filter = ["team", "provider__profile"]
    search_fields = ["name", "slug", "model_name", "team__name"]
    filter_horizontal = ["tools"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["role", "content", "tool_calls", "tool_call_id", "prompt_tokens",
              "completion_tokens", "latency_ms", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ToolExecutionInline(admin.TabularInline):
    model = ToolExecution
    extra = 0
    can_delete = False
    fields = ["tool_name", "arguments", "result", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read only: a conversation is a record of what was said."""

    list_display = ["__str__", "agent", "team", "created_by", "updated_at"]
    list_filter = ["team", "agent"]
    search_fields = ["title", "messages__content"]
    readonly_fields = ["team", "agent", "created_by", "title", "created_at", "updated_at"]
    inlines = [MessageInline, ToolExecutionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AllowedHost)
class AllowedHostAdmin(admin.ModelAdmin):
    list_display = ["host", "team", "created_at"]
    list_filter = ["team"]
    search_fields = ["host", "team__name"]
