from django.contrib import admin

from reasoning.models import InferenceRun, RuleSet, RuleSetVersion


class RuleSetVersionInline(admin.TabularInline):
    model = RuleSetVersion
    fields = ("number", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "facts_revision", "updated_at")
    list_filter = ("team",)
    search_fields = ("name",)
    readonly_fields = ("facts_revision", "relations", "created_at", "updated_at")
    inlines = [RuleSetVersionInline]


@admin.register(InferenceRun)
class InferenceRunAdmin(admin.ModelAdmin):
    list_display = ("id", "rule_set", "version", "derived_count", "duration_seconds",
                    "created_at")
    list_filter = ("team",)
    readonly_fields = [field.name for field in InferenceRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
