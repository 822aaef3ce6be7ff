"""Pages of the reasoning app: a team's knowledge bases, and one knowledge base's rules.

The facts of a rule set are in `fact_views`, its runs, queries and proofs in
`knowledge_views`; the page they share is put together in `reasoning.pages`.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from oagweb.context import current_membership
from oagweb.errors import ApplicationError
from oagweb.models import WRITE_ROLES
from oagweb.selectors import team_get_for_user
from oagweb.views import HtmxHttpRequest
from reasoning import selectors, services
from reasoning.models import RuleSet
from reasoning.pages import (
    PAGE,
    editor_context,
    part_response,
    rule_set_context,
    versions_listed,
)

# The starter a new knowledge base may begin with; the empty list page shows it too.
EXAMPLE_SOURCE = """\
% Who is whose parent; the rules derive every ancestor.
parent("tom", "bob").
parent("bob", "ann").
ancestor(X, Y) :- parent(X, Y).
ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z).
"""


def rule_set_get(request: HtmxHttpRequest, rule_set_id: int, *, write: bool = False) -> RuleSet:
    return selectors.rule_set_get_for_user(user=request.user, id=rule_set_id, write=write)


def _source(post: QueryDict) -> str:
    # Browsers send a textarea's line breaks as CRLF; versions keep the text as typed.
    return post.get("source", "").replace("\r\n", "\n")


# ---------------------------------------------------------------- the team's rule sets

def _create_fields(post: QueryDict) -> dict[str, Any]:
    return {"name": post.get("name", ""), "description": post.get("description", "").strip(),
            "source": EXAMPLE_SOURCE if post.get("example") else ""}


@login_required
@require_http_methods(["GET", "POST"])
def rule_set_list_page(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        messages.info(request, _("Create a team to get started."))
        return redirect("team_list")
    form, error = {}, None
    if request.method == "POST":
        team = team_get_for_user(user=request.user, id=membership.team_id, write=True)
        form = request.POST
        try:
            rule_set = services.rule_set_create(user=request.user, team=team,
                                                **_create_fields(request.POST))
        except ApplicationError as exc:
            error = exc.message
        else:
            url = reverse("rule_set_detail", args=[rule_set.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"team": membership.team, "can_write": membership.role in WRITE_ROLES,
               "rule_sets": selectors.rule_set_rows(team=membership.team), "form": form,
               "error": error,
               "example": EXAMPLE_SOURCE}
    if request.htmx and request.method == "POST":
        return render(request, "reasoning/rule_sets.html#create-form", context)
    return render(request, "reasoning/rule_sets.html", context, status=422 if error else 200)


# ---------------------------------------------------------------- one rule set: rules

@login_required
@require_GET
def rule_set_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    rule_set = rule_set_get(request, rule_set_id)
    return render(request, PAGE, rule_set_context(request, rule_set))


@login_required
@require_POST
def rule_set_validate_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Checks the editor's source without saving it: the status line and the marked gutter."""
    rule_set = rule_set_get(request, rule_set_id)
    latest = selectors.rule_set_version_latest(rule_set=rule_set)
    context = {**editor_context(source=_source(request.POST), latest=latest), "gutter_oob": True}
    return part_response(request, rule_set, "editor-check", context)


@login_required
@require_POST
def rule_set_version_save_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """Saves the editor's source as the next version; an invalid source saves nothing."""
    rule_set = rule_set_get(request, rule_set_id, write=True)
    source = _source(request.POST)
    previous = selectors.rule_set_version_latest(rule_set=rule_set)
    try:
        version = services.rule_set_version_save(user=request.user, rule_set=rule_set,
                                                 source=source)
    except ApplicationError as exc:
        context = {**editor_context(source=source, latest=previous), "save_error": exc.message}
        return part_response(request, rule_set, "editor", context, status=422)
    saved = version.number != previous.number
    if not request.htmx:
        text = (_("Saved as version %(number)s.") if saved
                else _("Nothing changed since version %(number)s."))
        messages.success(request, text % {"number": version.number})
        return redirect("rule_set_detail", rule_set_id=rule_set.pk)
    context = {**editor_context(source=source, latest=version), "saved": version,
               "saved_new": saved, "versions_oob": saved, "versions": versions_listed(rule_set)}
    return part_response(request, rule_set, "editor", context)


@login_required
@require_GET
def rule_set_editor_page(request: HtmxHttpRequest, rule_set_id: int) -> HttpResponse:
    """The editor holding a chosen version's source (`?version=N`), to edit from there."""
    rule_set = rule_set_get(request, rule_set_id)
    latest = selectors.rule_set_version_latest(rule_set=rule_set)
    number = request.GET.get("version", "")
    chosen = (selectors.rule_set_version_get(rule_set=rule_set, number=int(number))
              if number.isdigit() else latest)
    context = {**editor_context(source=chosen.source, latest=latest), "loaded": chosen}
    return part_response(request, rule_set, "editor", context)


@login_required
@require_GET
def rule_set_version_page(request: HtmxHttpRequest, rule_set_id: int,
                          number: int) -> HttpResponse:
    rule_set = rule_set_get(request, rule_set_id)
    version = selectors.rule_set_version_get(rule_set=rule_set, number=number)
    return part_response(request, rule_set, "version-view", {"shown_version": version})
