"""The facts part of the rule set page: the table with its filters, import, export, delete."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oagweb.errors import ApplicationError
from oagweb.views import HtmxHttpRequest
from reasoning import facts_io, services
from reasoning.models import RuleSet
from reasoning.pages import facts_context, part_response
from reasoning.views import rule_set_get


@login_required
@require_GET
def rule_set_facts_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """A page of base facts, filtered by relation and by a text in their arguments."""
    rule_set = rule_set_get(request, rule_set_id)
    return part_response(request, rule_set, "facts-table", facts_context(rule_set, request.GET))


def _imported(request: HtmxHttpRequest, rule_set: RuleSet) -> dict[str, Any]:
    upload = request.FILES.get("file")
    if upload is None:
        raise ApplicationError(_("Choose a CSV or JSON file to import."))
    result = services.facts_import_file(
        rule_set=rule_set, upload=upload, format=request.POST.get("format", ""),
        relation=request.POST.get("relation", "").strip() or None)
    return {"import_added": result.added, "import_received": result.received}


@login_required
@require_POST
def rule_set_facts_import_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Imports a file of facts, all or nothing; the answer says how many were new."""
    rule_set = rule_set_get(request, rule_set_id, write=True)
    try:
        context = _imported(request, rule_set)
    except ApplicationError as exc:
        context = {"import_error": exc.message, "import_form": request.POST}
        return part_response(request, rule_set, "import-form", context, status=422)
    if not request.htmx:
        messages.success(request, _("Added %(added)s of %(received)s facts (duplicates "
                                    "skipped).") % {"added": f"{context['import_added']:,}",
                                                    "received": f"{context['import_received']:,}"})
        return redirect("rule_set_detail", rule_set_id=rule_set.pk)
    context.update(facts_context(rule_set, request.GET), facts_oob=True)
    return part_response(request, rule_set, "import-form", context)


@login_required
@require_GET
def rule_set_facts_export_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    rule_set = rule_set_get(request, rule_set_id)
    try:
        return facts_io.facts_export_response(
            rule_set, format=request.GET.get("format", "json"),
            relation=request.GET.get("relation", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("rule_set_detail", rule_set_id=rule_set.pk)


@login_required
@require_POST
def rule_set_facts_delete_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Deletes every base fact of one relation."""
    rule_set = rule_set_get(request, rule_set_id, write=True)
    relation = request.POST.get("relation", "")
    try:
        deleted = services.facts_delete(rule_set=rule_set, relation=relation)
    except ApplicationError as exc:
        context = {"facts_error": exc.message}
    else:
        context = {"facts_notice": _("Deleted %(count)s facts of %(relation)s.")
                   % {"count": f"{deleted:,}", "relation": relation}}
    if not request.htmx:
        level = messages.error if "facts_error" in context else messages.success
        level(request, context.get("facts_error") or context["facts_notice"])
        return redirect("rule_set_detail", rule_set_id=rule_set.pk)
    return part_response(request, rule_set, "facts", {**context, **facts_context(rule_set,
                                                                                  request.GET)})
