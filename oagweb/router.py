"""REST endpoints of the core: the current user, teams, memberships, API tokens, jobs."""

from django.http import HttpRequest
from ninja import Router, Status

from oagweb import jobs, selectors, services
from oagweb.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    ErrorOut,
    JobOut,
    MembershipIn,
    MembershipOut,
    MembershipPatch,
    MeOut,
    PingJobIn,
    TeamIn,
    TeamOut,
)

router = Router()

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get("/me", response={200: MeOut, **ERRORS}, operation_id="me_get", tags=["teams"])
def me_get(request: HttpRequest):
    memberships = request.user.memberships.select_related("team")
    return {"id": request.user.pk, "username": request.user.username, "memberships": memberships}


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, operation_id="team_list",
            tags=["teams"])
def team_list(request: HttpRequest):
    return selectors.team_list_for_user(user=request.user)


@router.post("/teams", response={201: TeamOut, **ERRORS}, operation_id="team_create",
             tags=["teams"])
def team_create(request: HttpRequest, payload: TeamIn):
    return Status(201, services.team_create(user=request.user, name=payload.name))


@router.get("/teams/{team_id}", response={200: TeamOut, **ERRORS}, operation_id="team_get",
            tags=["teams"])
def team_get(request: HttpRequest, team_id: int):
    return selectors.team_get_for_user(user=request.user, id=team_id)


@router.get("/teams/{team_id}/members", response={200: list[MembershipOut], **ERRORS},
            operation_id="membership_list", tags=["teams"])
def membership_list(request: HttpRequest, team_id: int):
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    return selectors.membership_list(team=team)


@router.post("/teams/{team_id}/members", response={201: MembershipOut, **ERRORS},
             operation_id="membership_add", tags=["teams"])
def membership_add(request: HttpRequest, team_id: int, payload: MembershipIn):
    actor = selectors.team_manage_check(user=request.user, team_id=team_id)
    membership = services.membership_add(actor=actor, username=payload.username,
                                         role=payload.role)
    return Status(201, membership)


@router.patch("/teams/{team_id}/members/{membership_id}",
              response={200: MembershipOut, **ERRORS}, operation_id="membership_update",
              tags=["teams"])
def membership_update(request: HttpRequest, team_id: int, membership_id: int,
                      payload: MembershipPatch):
    actor, target = selectors.membership_get_for_user(
        user=request.user, team_id=team_id, id=membership_id
    )
    return services.membership_role_change(actor=actor, target=target, role=payload.role)


@router.delete("/teams/{team_id}/members/{membership_id}", response={204: None, **ERRORS},
               operation_id="membership_remove", tags=["teams"])
def membership_remove(request: HttpRequest, team_id: int, membership_id: int):
    actor, target = selectors.membership_get_for_user(
        user=request.user, team_id=team_id, id=membership_id
    )
    services.membership_remove(actor=actor, target=target)
    return Status(204, None)


@router.get("/tokens", response={200: list[ApiTokenOut], **ERRORS}, operation_id="api_token_list",
            tags=["tokens"])
def api_token_list(request: HttpRequest):
    return selectors.api_token_list(user=request.user)


@router.post("/tokens", response={201: ApiTokenCreatedOut, **ERRORS},
             operation_id="api_token_create", tags=["tokens"])
def api_token_create(request: HttpRequest, payload: ApiTokenIn):
    token, raw = services.api_token_create(user=request.user, name=payload.name)
    return Status(201, {**ApiTokenOut.from_orm(token).dict(), "token": raw})


@router.delete("/tokens/{token_id}", response={200: ApiTokenOut, **ERRORS},
               operation_id="api_token_revoke", tags=["tokens"])
def api_token_revoke(request: HttpRequest, token_id: int):
    token = selectors.api_token_get_for_user(user=request.user, id=token_id)
    return services.api_token_revoke(token=token)


@router.get("/teams/{team_id}/jobs", response={200: list[JobOut], **ERRORS},
            operation_id="job_list", tags=["jobs"])
def job_list(request: HttpRequest, team_id: int, limit: int = 20):
    team = selectors.team_get_for_user(user=request.user, id=team_id)
    return selectors.job_list(team=team, limit=min(max(limit, 1), 200))


@router.post("/jobs/ping", response={201: JobOut, **ERRORS}, operation_id="job_ping_start",
             tags=["jobs"])
def job_ping_start(request: HttpRequest, payload: PingJobIn):
    """Starts the demo job: a worker reports progress for `seconds`, then answers pong."""
    team = selectors.team_get_for_user(user=request.user, id=payload.team_id, write=True)
    params = {"seconds": payload.seconds, "fail": payload.fail}
    return Status(201, jobs.job_start(user=request.user, team=team, kind="ping", params=params))


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, operation_id="job_get",
            tags=["jobs"])
def job_get(request: HttpRequest, job_id: int):
    return selectors.job_get_for_user(user=request.user, id=job_id)


@router.post("/jobs/{job_id}/cancel", response={200: JobOut, **ERRORS},
             operation_id="job_cancel", tags=["jobs"])
def job_cancel(request: HttpRequest, job_id: int):
    job = selectors.job_get_for_user(user=request.user, id=job_id, write=True)
    return jobs.job_cancel(job=job)
