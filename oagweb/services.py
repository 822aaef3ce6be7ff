"""Writes for teams, memberships and API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from oagweb.errors import ApplicationError, Conflict, Forbidden, NotFound, Unauthorized
from oagweb.models import ApiToken, Membership, Role, Team

TOKEN_PREFIX = "oag_"
# last_used_at is written at most this often per token, not on every request.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _slug_unique(name: str) -> str:
    base = slugify(name, allow_unicode=False)[:80] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def team_create(*, user: AbstractBaseUser, name: str) -> Team:
    """Creates a team with `user` as its owner."""
    name = name.strip()
    if not name:
        raise ApplicationError("A team needs a name")
    if len(name) > 100:
        raise ApplicationError("A team name has at most 100 characters")
    team = Team.objects.create(name=name, slug=_slug_unique(name))
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    return team


def _role_parse(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(Role.values)
        raise ApplicationError(f"Unknown role {role!r}; choose one of {allowed}") from None


def _owner_guard(*, actor: Membership, roles: set[str]) -> None:
    if Role.OWNER in roles and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can grant, change or remove the owner role")


@transaction.atomic
def membership_add(*, actor: Membership, username: str, role: str) -> Membership:
    """Adds an existing user to the actor's team with a role."""
    new_role = _role_parse(role)
    _owner_guard(actor=actor, roles={new_role})
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise NotFound(f"No user named {username!r}")
    try:
        with transaction.atomic():
            return Membership.objects.create(team=actor.team, user=user, role=new_role)
    except IntegrityError:
        raise Conflict(f"{user.username} is already a member of {actor.team.name}") from None


def _last_owner_guard(target: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(team=target.team, role=Role.OWNER)
    if target.role == Role.OWNER and owners.count() == 1:
        raise Conflict("A team needs at least one owner: add another owner first")


@transaction.atomic
def membership_role_change(*, actor: Membership, target: Membership, role: str) -> Membership:
    """Changes a member's role; the last owner keeps theirs."""
    new_role = _role_parse(role)
    _owner_guard(actor=actor, roles={new_role, target.role})
    if new_role != Role.OWNER:
        _last_owner_guard(target)
    target.role = new_role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def membership_remove(*, actor: Membership, target: Membership) -> None:
    """Removes a member from the team; the last owner cannot be removed."""
    _owner_guard(actor=actor, roles={target.role})
    _last_owner_guard(target)
    target.delete()


def _token_hash(raw: str) -> str:
    # The token carries 256 random bits, so a fast hash is as safe as a slow one here.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Creates a token; returns it with the plaintext, which is never stored nor shown again."""
    name = name.strip()
    if not name:
        raise ApplicationError("A token needs a name")
    if len(name) > 100:
        raise ApplicationError("A token name has at most 100 characters")
    prefix = TOKEN_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix,
                                    token_hash=_token_hash(raw))
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Marks the token revoked; it stops authenticating at once."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> AbstractBaseUser:
    """The token's user; records the time of use (throttled)."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_token_hash(raw.strip()))
        .first()
    )
    if token is None or not token.user.is_active:
        raise Unauthorized("Invalid API token")
    if token.revoked_at is not None:
        raise Unauthorized("This API token was revoked")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
