import pytest

from oagweb.models import Membership, Role, Team
from tests.conftest import member_of
from tests.oagweb.factories import UserFactory

JSON = "application/json"


@pytest.mark.django_db
def test_it_makes_the_creator_owner(owner, api_client):
    response = api_client(owner).post("/api/v1/teams", {"name": "Vision Lab"}, content_type=JSON)
    assert response.status_code == 201
    team = Team.objects.get(pk=response.json()["id"])
    assert team.slug == "vision-lab"
    assert Membership.objects.get(team=team, user=owner).role == Role.OWNER


@pytest.mark.django_db
def test_it_gives_clashing_names_distinct_slugs(owner, api_client):
    api = api_client(owner)
    slugs = {api.post("/api/v1/teams", {"name": "NLP"}, content_type=JSON).json()["slug"]
             for _ in range(2)}
    assert slugs == {"nlp", "nlp-2"}


@pytest.mark.django_db
def test_it_adds_a_member_by_username(owner, api_client):
    newcomer = UserFactory()
    response = api_client(owner).post(
        f"/api/v1/teams/{owner.team.pk}/members", {"username": newcomer.username, "role": "viewer"},
        content_type=JSON,
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == newcomer.username
    assert Membership.objects.get(team=owner.team, user=newcomer).role == Role.VIEWER


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"username": "nobody-here"}, 404, "No user named 'nobody-here'"),
        ({"username": "USER", "role": "emperor"}, 422, None),
    ],
)
def test_it_refuses_bad_member_additions(owner, api_client, body, status, detail):
    response = api_client(owner).post(f"/api/v1/teams/{owner.team.pk}/members", body,
                                      content_type=JSON)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


@pytest.mark.django_db
def test_it_refuses_a_duplicate_member(owner, api_client):
    colleague = member_of(owner.team)
    response = api_client(owner).post(f"/api/v1/teams/{owner.team.pk}/members",
                                      {"username": colleague.username}, content_type=JSON)
    assert response.status_code == 409
    assert "already a member" in response.json()["detail"]


def _membership(team, user) -> Membership:
    return Membership.objects.get(team=team, user=user)


@pytest.mark.django_db
def test_it_keeps_the_last_owner(owner, api_client):
    api = api_client(owner)
    mine = _membership(owner.team, owner)
    url = f"/api/v1/teams/{owner.team.pk}/members/{mine.pk}"
    demoted = api.patch(url, {"role": "admin"}, content_type=JSON)
    removed = api.delete(url)
    assert demoted.status_code == removed.status_code == 409
    assert "at least one owner" in removed.json()["detail"]
    assert _membership(owner.team, owner).role == Role.OWNER


@pytest.mark.django_db
def test_it_lets_an_owner_go_once_another_exists(owner, api_client):
    second = member_of(owner.team, Role.OWNER)
    response = api_client(second).delete(
        f"/api/v1/teams/{owner.team.pk}/members/{_membership(owner.team, owner).pk}"
    )
    assert response.status_code == 204
    assert not Membership.objects.filter(team=owner.team, user=owner).exists()


@pytest.mark.django_db
def test_it_keeps_admins_away_from_the_owner_role(owner, api_client):
    admin = member_of(owner.team, Role.ADMIN)
    api = api_client(admin)
    target = _membership(owner.team, member_of(owner.team))
    promote = api.patch(f"/api/v1/teams/{owner.team.pk}/members/{target.pk}", {"role": "owner"},
                        content_type=JSON)
    demote_owner = api.patch(
        f"/api/v1/teams/{owner.team.pk}/members/{_membership(owner.team, owner).pk}",
        {"role": "viewer"}, content_type=JSON,
    )
    assert promote.status_code == demote_owner.status_code == 403
    role_change = api.patch(f"/api/v1/teams/{owner.team.pk}/members/{target.pk}",
                            {"role": "viewer"}, content_type=JSON)
    assert role_change.status_code == 200 and role_change.json()["role"] == "viewer"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_it_keeps_members_and_viewers_from_managing(owner, api_client, role):
    user = member_of(owner.team, role)
    response = api_client(user).post(f"/api/v1/teams/{owner.team.pk}/members",
                                     {"username": UserFactory().username}, content_type=JSON)
    assert response.status_code == 403


@pytest.mark.django_db
def test_it_lets_viewers_read_but_not_write(owner, api_client):
    api = api_client(member_of(owner.team, Role.VIEWER))
    assert api.get(f"/api/v1/teams/{owner.team.pk}/members").status_code == 200
    assert api.get(f"/api/v1/teams/{owner.team.pk}/jobs").status_code == 200
    started = api.post("/api/v1/jobs/ping", {"team_id": owner.team.pk}, content_type=JSON)
    assert started.status_code == 403
    assert started.json() == {"detail": "Viewers have read-only access to this team"}
