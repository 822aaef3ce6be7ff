"""Reads and access checks for teams, memberships, tokens and jobs.

Every interface reaches a team-owned object through one `<entity>_get_for_user` helper:
another team's object is a 404 (its existence is not revealed), a viewer's write is a 403.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404

from oagweb.models import MANAGE_ROLES, WRITE_ROLES, ApiToken, Job, JobStatus, Membership, Team


def membership_for(*, user: AbstractBaseUser, team_id: int) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("team").filter(user=user, team_id=team_id).first()


def team_access_check(*, user: AbstractBaseUser, team_id: int, write: bool = False) -> Membership:
    """The membership that grants access, or 404 (not a member) / 403 (viewer writing)."""
    membership = membership_for(user=user, team_id=team_id)
    if membership is None:
        raise Http404("No such team")
    if write and membership.role not in WRITE_ROLES:
        raise PermissionDenied("Viewers have read-only access to this team")
    return membership


def team_object_get(queryset: QuerySet, *, user: AbstractBaseUser, id: int, write: bool,
                    label: str) -> Model:
    """A team-owned object the user may see (404 otherwise), checked for write if asked."""
    found = queryset.filter(id=id, team__memberships__user=user).first()
    if found is None:
        raise Http404(f"No such {label}")
    team_access_check(user=user, team_id=found.team_id, write=write)
    return found


def team_can_write(*, user: AbstractBaseUser, team_id: int) -> bool:
    """Whether a page should offer the team's write actions (the writes check again)."""
    membership = membership_for(user=user, team_id=team_id)
    return membership is not None and membership.role in WRITE_ROLES


def team_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Team:
    return team_access_check(user=user, team_id=id, write=write).team


def team_manage_check(*, user: AbstractBaseUser, team_id: int) -> Membership:
    membership = team_access_check(user=user, team_id=team_id)
    if membership.role not in MANAGE_ROLES:
        raise PermissionDenied("Only owners and admins manage members")
    return membership


def team_list_for_user(*, user: AbstractBaseUser) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user).annotate(
        member_count=Count("memberships", distinct=True)
    )


def membership_list(*, team: Team) -> QuerySet[Membership]:
    return team.memberships.select_related("user").order_by("user__username")


def membership_get_for_user(
    *, user: AbstractBaseUser, team_id: int, id: int
) -> tuple[Membership, Membership]:
    """(the actor's own membership, the target membership) for member management."""
    actor = team_manage_check(user=user, team_id=team_id)
    target = Membership.objects.select_related("user", "team").filter(team_id=team_id, id=id)
    found = target.first()
    if found is None:
        raise Http404("No such membership")
    return actor, found


def api_token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_for_user(*, user: AbstractBaseUser, id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, id=id).first()
    if token is None:
        raise Http404("No such token")
    return token


def job_get_for_user(*, user: AbstractBaseUser, id: int, write: bool = False) -> Job:
    job = Job.objects.select_related("team").filter(id=id, team__memberships__user=user).first()
    if job is None:
        raise Http404("No such job")
    team_access_check(user=user, team_id=job.team_id, write=write)
    return job


def job_list(*, team: Team, limit: int = 20) -> QuerySet[Job]:
    return Job.objects.filter(team=team).select_related("created_by")[:limit]


def job_counts(*, team: Team) -> dict[str, int]:
    counts = Job.objects.filter(team=team).aggregate(
        **{status.value: Count("id", filter=Q(status=status)) for status in JobStatus}
    )
    counts["members"] = team.memberships.count()
    return counts
