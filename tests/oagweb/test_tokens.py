import pytest

from oagweb.models import ApiToken
from oagweb.services import api_token_create, api_token_revoke


@pytest.mark.django_db
def test_it_accepts_a_valid_token(client, owner, api_client):
    response = api_client(owner).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == owner.username


@pytest.mark.django_db
def test_it_stores_only_a_hash_and_a_visible_prefix(owner):
    token, raw = api_token_create(user=owner, name="ci")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith(stored.prefix + "_")
    assert raw not in stored.token_hash and stored.token_hash != raw
    assert len(stored.token_hash) == 64


@pytest.mark.django_db
def test_it_records_last_use(client, owner):
    token, raw = api_token_create(user=owner, name="ci")
    assert token.last_used_at is None
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_it_rejects_a_revoked_token(client, owner):
    token, raw = api_token_create(user=owner, name="ci")
    api_token_revoke(token=token)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "This API token was revoked"}


@pytest.mark.django_db
def test_it_rejects_a_wrong_token(client, owner):
    _, raw = api_token_create(user=owner, name="ci")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw[:-2]}xx"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API token"}


@pytest.mark.django_db
def test_it_rejects_a_missing_token(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.django_db
def test_it_shows_the_secret_only_at_creation(owner, api_client):
    api = api_client(owner)
    created = api.post("/api/v1/tokens", {"name": "deploy"}, content_type="application/json")
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = api.get("/api/v1/tokens").json()
    assert all("token" not in row for row in listed)
    assert secret not in str(listed)
    assert {row["name"] for row in listed} == {"tests", "deploy"}


@pytest.mark.django_db
def test_it_revokes_through_the_api(owner, api_client, client):
    api = api_client(owner)
    created = api.post("/api/v1/tokens", {"name": "deploy"}, content_type="application/json").json()
    revoked = api.delete(f"/api/v1/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert again.status_code == 401


@pytest.mark.django_db
def test_it_refuses_a_nameless_token(owner, api_client):
    response = api_client(owner).post("/api/v1/tokens", {"name": "  "},
                                      content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "A token needs a name"}
