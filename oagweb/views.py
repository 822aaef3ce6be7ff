"""Pages of the core: dashboard with the live activity feed, login, teams, API tokens."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from oagweb import jobs, selectors, services
from oagweb.context import SESSION_TEAM_KEY, current_membership
from oagweb.errors import ApplicationError
from oagweb.models import Role

# Jobs the dashboard's live feed shows; the browser trims live additions to the same number.
FEED_LIMIT = 20

class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _next_url(request: HttpRequest, value: str | None) -> str:
    """`value` if it points into this site, else the dashboard (no open redirects)."""
    safe = value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if safe else "/"


@require_http_methods(["GET", "POST"])
def login_page(request: HtmxHttpRequest) -> HttpResponse:
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(_next_url(request, request.GET.get("next")))
    return render(request, "oagweb/login.html", {"form": form})


@require_POST
def logout_page(request: HtmxHttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@login_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        messages.info(request, _("Create a team to get started."))
        return redirect("team_list")
    team = membership.team
    context = {
        "team": team,
        "can_write": membership.role != Role.VIEWER,
        "counts": selectors.job_counts(team=team),
        "jobs": selectors.job_list(team=team, limit=FEED_LIMIT),
        "feed_limit": FEED_LIMIT,
    }
    return render(request, "oagweb/dashboard.html", context)


@login_required
@require_GET
def dashboard_feed(request: HtmxHttpRequest) -> HttpResponse:
    """The feed's items, fetched again when the live socket may have missed events."""
    membership = current_membership(request)
    if membership is None:
        return HttpResponse(status=204)
    jobs_shown = selectors.job_list(team=membership.team, limit=FEED_LIMIT)
    return render(request, "oagweb/dashboard.html#feed-items", {"jobs": jobs_shown})


@login_required
@require_GET
def dashboard_counts(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return HttpResponse(status=204)
    counts = selectors.job_counts(team=membership.team)
    return render(request, "oagweb/dashboard.html#counts", {"counts": counts})


@login_required
@require_POST
def job_ping_page(request: HtmxHttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_list")
    team = selectors.team_get_for_user(user=request.user, id=membership.team_id, write=True)
    try:
        seconds = float(request.POST.get("seconds") or 3)
        params = {"seconds": seconds, "fail": request.POST.get("fail") == "on"}
        job = jobs.job_start(user=request.user, team=team, kind="ping", params=params)
    except ValueError:
        context = {"error": _("Seconds must be a number.")}
    except ApplicationError as exc:
        context = {"error": exc.message}
    else:
        context = {"started": job}
    return render(request, "oagweb/dashboard.html#ping-status", context)


@login_required
@require_POST
def job_cancel_page(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_user(user=request.user, id=job_id, write=True)
    try:
        jobs.job_cancel(job=job)
    except ApplicationError as exc:
        messages.warning(request, exc.message)
    # The feed item updates through the WebSocket like any other change.
    return HttpResponse(status=204)


@login_required
@require_http_methods(["GET", "POST"])
def team_list_page(request: HtmxHttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            team = services.team_create(user=request.user, name=request.POST.get("name", ""))
        except ApplicationError as exc:
            error = exc.message
        else:
            request.session[SESSION_TEAM_KEY] = team.pk
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("team_detail", team_id=team.pk)
    teams = selectors.team_list_for_user(user=request.user)
    return render(request, "oagweb/team_list.html", {"teams": teams, "error": error})


@login_required
@require_POST
def team_switch(request: HtmxHttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    request.session[SESSION_TEAM_KEY] = team.pk
    target = _next_url(request, request.POST.get("next"))
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return redirect(target)


def _team_page_context(request: HtmxHttpRequest, team_id: int) -> dict:
    membership = selectors.team_access_check(user=request.user, team_id=team_id)
    return {
        "team": membership.team,
        "me": membership,
        "can_manage": membership.role in (Role.OWNER, Role.ADMIN),
        "members": selectors.membership_list(team=membership.team),
        "roles": Role.choices,
    }


@login_required
@require_GET
def team_page(request: HtmxHttpRequest, team_id: int) -> HttpResponse:
    return render(request, "oagweb/team_detail.html", _team_page_context(request, team_id))


@login_required
@require_POST
def membership_add_page(request: HtmxHttpRequest, team_id: int) -> HttpResponse:
    actor = selectors.team_manage_check(user=request.user, team_id=team_id)
    try:
        services.membership_add(actor=actor, username=request.POST.get("username", ""),
                                role=request.POST.get("role", Role.MEMBER))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("team_detail", team_id=team_id)


@login_required
@require_POST
def membership_update_page(request: HtmxHttpRequest, team_id: int,
                           membership_id: int) -> HttpResponse:
    actor, target = selectors.membership_get_for_user(
        user=request.user, team_id=team_id, id=membership_id
    )
    error = None
    try:
        target = services.membership_role_change(actor=actor, target=target,
                                                 role=request.POST.get("role", ""))
    except ApplicationError as exc:
        error = exc.message
        target.refresh_from_db()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("team_detail", team_id=team_id)
    context = {**_team_page_context(request, team_id), "member": target, "row_error": error}
    return render(request, "oagweb/team_detail.html#member-row", context)


@login_required
@require_POST
def membership_remove_page(request: HtmxHttpRequest, team_id: int,
                           membership_id: int) -> HttpResponse:
    actor, target = selectors.membership_get_for_user(
        user=request.user, team_id=team_id, id=membership_id
    )
    try:
        services.membership_remove(actor=actor, target=target)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(user)s was removed.") % {"user": target.user.username})
    return redirect("team_detail", team_id=team_id)


@login_required
@require_http_methods(["GET", "POST"])
def token_list_page(request: HtmxHttpRequest) -> HttpResponse:
    created, raw, error = None, None, None
    if request.method == "POST":
        try:
            created, raw = services.api_token_create(user=request.user,
                                                     name=request.POST.get("name", ""))
        except ApplicationError as exc:
            error = exc.message
    context = {"tokens": selectors.api_token_list(user=request.user), "created": created,
               "raw_token": raw, "error": error}
    return render(request, "oagweb/tokens.html", context)


@login_required
@require_POST
def token_revoke_page(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get_for_user(user=request.user, id=token_id)
    services.api_token_revoke(token=token)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("token_list")
