import pytest

from oagweb.context import SESSION_TEAM_KEY
from oagweb.models import ApiToken, Job, Membership, Role
from oagweb.services import api_token_create
from oagweb.views import FEED_LIMIT
from tests.conftest import member_of
from tests.oagweb.factories import (
    PASSWORD,
    JobFactory,
    MembershipFactory,
    TeamFactory,
    UserFactory,
)

HTMX = {"HX-Request": "true"}


@pytest.mark.django_db
def test_it_renders_the_login_page_and_logs_in(client, owner):
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="password"' in page.content
    response = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").context["user"] == owner


@pytest.mark.django_db
def test_it_rejects_a_wrong_password(client, owner):
    response = client.post("/login/", {"username": owner.username, "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_refuses_an_open_redirect_after_login(client, owner):
    response = client.post("/login/?next=https://evil.example/",
                           {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.django_db
def test_it_follows_a_local_next_after_login(client, owner):
    response = client.post("/login/?next=/tokens/",
                           {"username": owner.username, "password": PASSWORD})
    assert response.url == "/tokens/"


@pytest.mark.django_db
def test_it_requires_login_for_the_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/"


@pytest.mark.django_db
def test_it_sends_a_user_without_a_team_to_the_team_list(client):
    client.force_login(UserFactory())
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/teams/", 302)]
    assert "Create a team to get started." in response.content.decode()


@pytest.mark.django_db
def test_it_shows_the_current_team_on_the_dashboard(client, owner):
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert f"<h1>{owner.team.name}</h1>" in page
    assert 'id="ping-button"' in page
    assert 'ws-connect="/ws/teams/%d/activity/"' % owner.team.pk in page


@pytest.mark.django_db
def test_it_creates_a_team_through_the_form(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/teams/", {"name": "Robotics Lab"})
    membership = Membership.objects.get(user=user)
    assert membership.team.name == "Robotics Lab" and membership.role == Role.OWNER
    assert response.url == f"/teams/{membership.team.pk}/"
    assert client.session[SESSION_TEAM_KEY] == membership.team.pk


@pytest.mark.django_db
def test_it_refuses_a_nameless_team(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/teams/", {"name": "   "})
    assert response.status_code == 200
    assert "A team needs a name" in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_it_switches_the_current_team(client, owner):
    other = MembershipFactory(user=owner, team=TeamFactory(name="Zeta"), role=Role.MEMBER).team
    client.force_login(owner)
    response = client.post(f"/teams/{other.pk}/switch/", {"next": "/tokens/"})
    assert response.status_code == 302 and response.url == "/tokens/"
    assert client.session[SESSION_TEAM_KEY] == other.pk
    assert "<h1>Zeta</h1>" in client.get("/").content.decode()


@pytest.mark.django_db
def test_it_switches_teams_by_client_redirect_for_htmx(client, owner):
    other = MembershipFactory(user=owner, role=Role.MEMBER).team
    client.force_login(owner)
    response = client.post(f"/teams/{other.pk}/switch/", {"next": "https://evil.example/"},
                           headers=HTMX)
    assert response.headers["HX-Redirect"] == "/"
    assert client.session[SESSION_TEAM_KEY] == other.pk


@pytest.mark.django_db
def test_it_hides_a_foreign_team_on_switch(client, owner, stranger):
    client.force_login(owner)
    response = client.post(f"/teams/{stranger.team.pk}/switch/")
    assert response.status_code == 404
    assert SESSION_TEAM_KEY not in client.session
    assert client.get(f"/teams/{stranger.team.pk}/").status_code == 404


@pytest.mark.django_db
def test_it_adds_a_member_by_username(client, owner):
    newcomer = UserFactory()
    client.force_login(owner)
    response = client.post(f"/teams/{owner.team.pk}/members/",
                           {"username": newcomer.username, "role": "admin"}, follow=True)
    assert Membership.objects.get(team=owner.team, user=newcomer).role == Role.ADMIN
    assert f"<td>{newcomer.username}</td>" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_an_error_for_an_unknown_username(client, owner):
    client.force_login(owner)
    response = client.post(f"/teams/{owner.team.pk}/members/",
                           {"username": "ghost", "role": "member"}, follow=True)
    assert "No user named &#x27;ghost&#x27;" in response.content.decode()
    assert owner.team.memberships.count() == 1


@pytest.mark.django_db
def test_it_changes_a_role_through_htmx(client, owner):
    target = MembershipFactory(team=owner.team, role=Role.MEMBER)
    client.force_login(owner)
    response = client.post(f"/teams/{owner.team.pk}/members/{target.pk}/",
                           {"role": "viewer"}, headers=HTMX)
    row = response.content.decode()
    assert response.status_code == 200
    assert row.strip().startswith(f'<tr id="member-{target.pk}">') and "<html" not in row
    assert '<option value="viewer" selected>' in row
    target.refresh_from_db()
    assert target.role == Role.VIEWER


@pytest.mark.django_db
def test_it_keeps_the_last_owner(client, owner):
    mine = Membership.objects.get(user=owner, team=owner.team)
    client.force_login(owner)
    response = client.post(f"/teams/{owner.team.pk}/members/{mine.pk}/",
                           {"role": "member"}, headers=HTMX)
    row = response.content.decode()
    assert response.status_code == 200 and "<html" not in row
    assert "A team needs at least one owner" in row
    assert '<option value="owner" selected>' in row
    mine.refresh_from_db()
    assert mine.role == Role.OWNER


@pytest.mark.django_db
def test_it_forbids_member_management_to_a_plain_member(client, owner):
    member = member_of(owner.team)
    target = Membership.objects.get(user=owner)
    client.force_login(member)
    response = client.post(f"/teams/{owner.team.pk}/members/{target.pk}/",
                           {"role": "viewer"}, headers=HTMX)
    assert response.status_code == 403
    assert 'name="role"' not in client.get(f"/teams/{owner.team.pk}/").content.decode()


@pytest.mark.django_db
def test_it_tells_a_viewer_they_cannot_start_jobs(client, owner):
    viewer = member_of(owner.team, Role.VIEWER)
    client.force_login(viewer)
    page = client.get("/").content.decode()
    assert "Viewers cannot start jobs." in page
    assert 'id="ping-button"' not in page
    response = client.post("/jobs/ping/", {"seconds": "1"}, headers=HTMX)
    assert response.status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_it_queues_a_ping_from_the_dashboard(client, owner):
    client.force_login(owner)
    response = client.post("/jobs/ping/", {"seconds": "1.5"}, headers=HTMX)
    job = Job.objects.get(team=owner.team)
    assert job.kind == "ping" and job.params == {"seconds": 1.5, "fail": False}
    assert response.content.decode().strip() == f'<p class="ok">Job #{job.pk} queued.</p>'


@pytest.mark.django_db
def test_it_rejects_seconds_that_are_not_a_number(client, owner):
    client.force_login(owner)
    response = client.post("/jobs/ping/", {"seconds": "abc"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Seconds must be a number." in body
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_it_rejects_seconds_out_of_range(client, owner):
    client.force_login(owner)
    response = client.post("/jobs/ping/", {"seconds": "500"}, headers=HTMX)
    assert "seconds must lie between 0 and 120" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_it_returns_only_the_counts_fragment(client, owner):
    MembershipFactory(team=owner.team, role=Role.MEMBER)
    client.force_login(owner)
    response = client.get("/activity/counts/", headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<section class="counts" id="counts"')
    assert "<html" not in body and "<strong>2</strong>" in body


@pytest.mark.django_db
def test_it_shows_a_new_token_once(client, owner):
    client.force_login(owner)
    created = client.post("/tokens/", {"name": "ci"}).content.decode()
    token = ApiToken.objects.get(user=owner)
    raw = created.split('<code id="raw-token">')[1].split("</code>")[0]
    assert raw.startswith(token.prefix + "_") and len(raw) > len(token.prefix) + 20
    again = client.get("/tokens/").content.decode()
    assert raw not in again and 'id="raw-token"' not in again
    assert f"<code>{token.prefix}_…</code>" in again


@pytest.mark.django_db
def test_it_revokes_a_token_from_the_page(client, owner):
    token, raw = api_token_create(user=owner, name="deploy")
    client.force_login(owner)
    response = client.post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert "Token deploy revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.django_db
def test_it_hides_another_users_token_from_revoke(client, owner, stranger):
    token, _ = api_token_create(user=stranger, name="theirs")
    client.force_login(owner)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_it_switches_the_language(client, owner):
    client.force_login(owner)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_it_returns_only_the_feed_items_fragment(client, owner):
    jobs = [JobFactory(team=owner.team) for _ in range(FEED_LIMIT + 2)]
    client.force_login(owner)
    html = client.get("/activity/feed/", headers=HTMX).content.decode()
    assert "<html" not in html
    assert html.count('class="job ') == FEED_LIMIT
    assert f'id="job-{jobs[-1].pk}"' in html and f'id="job-{jobs[0].pk}"' not in html
