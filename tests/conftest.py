import os

import pytest
from django.test import Client

from oagweb.models import Role
from oagweb.services import api_token_create
from tests.oagweb.factories import MembershipFactory, TeamFactory, UserFactory

# Benchmarks take minutes and print tables: `make bench` runs them (OAG_BENCH=1), `make test`
# does not.
collect_ignore = [] if os.environ.get("OAG_BENCH") == "1" else ["benchmarks"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def owner(db):
    """A user who owns one team: `owner.team` is it."""
    membership = MembershipFactory(role=Role.OWNER)
    membership.user.team = membership.team
    return membership.user


@pytest.fixture
def stranger(db):
    """A user who owns another team, and nothing of `owner`'s."""
    membership = MembershipFactory(role=Role.OWNER, team=TeamFactory())
    membership.user.team = membership.team
    return membership.user


def member_of(team, role: Role = Role.MEMBER):
    return MembershipFactory(team=team, user=UserFactory(), role=role).user


@pytest.fixture
def api_client():
    """A client for the REST API authenticating as `user` with a fresh token."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


@pytest.fixture
def staff_client(client, admin_user):
    """The test client logged in as a superuser, for the admin."""
    client.force_login(admin_user)
    return client
