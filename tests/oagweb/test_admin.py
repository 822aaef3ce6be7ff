"""The Django admin for teams, memberships, tokens and jobs; the bootstrap command."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from oagweb.models import ApiToken, Membership, Role, Team
from oagweb.services import api_token_create
from tests.oagweb.factories import JobFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["team", "membership", "apitoken", "job"])
def test_it_lists_and_searches_in_every_admin(staff_client, model):
    membership = MembershipFactory()
    JobFactory(team=membership.team, created_by=membership.user)
    api_token_create(user=membership.user, name="ci")
    url = f"/admin/oagweb/{model}/"
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": membership.team.name}).status_code == 200


def test_it_never_shows_a_token_hash_in_the_admin(staff_client, owner):
    token, raw = api_token_create(user=owner, name="deploy")
    page = staff_client.get(f"/admin/oagweb/apitoken/{token.pk}/change/").content.decode()
    assert token.prefix in page
    assert token.token_hash not in page and raw not in page


def test_it_revokes_tokens_from_the_admin(staff_client, owner):
    token, _ = api_token_create(user=owner, name="deploy")
    staff_client.post("/admin/oagweb/apitoken/",
                      {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_it_bootstraps_the_admin_and_demo_team_once(monkeypatch, capsys):
    monkeypatch.setenv("OAG_ADMIN_USERNAME", "boss")
    monkeypatch.delenv("OAG_ADMIN_PASSWORD", raising=False)
    call_command("bootstrap")
    printed = capsys.readouterr().out
    user = get_user_model().objects.get(username="boss")
    password = printed.split("with password '")[1].split("'")[0]
    assert user.is_superuser and user.check_password(password)
    demo = Team.objects.get(slug="demo")
    assert Membership.objects.get(team=demo, user=user).role == Role.OWNER

    call_command("bootstrap")  # a second start changes nothing and prints no password
    assert "password '" not in capsys.readouterr().out
    assert get_user_model().objects.filter(username="boss").count() == 1
