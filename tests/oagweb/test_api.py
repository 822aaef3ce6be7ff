import time

import pytest
from django.test import Client, override_settings

from tests.oagweb.factories import PASSWORD


@pytest.mark.django_db
def test_it_reports_each_service_and_a_missing_worker(client):
    response = client.get("/api/v1/health")
    checks = response.json()["checks"]
    assert set(checks) == {"database", "redis", "celery", "mlflow"}
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["mlflow"]["ok"]
    # No worker runs in this test: the check says so, and the whole answer is a 503.
    assert checks["celery"] == {
        "ok": False, "detail": "RuntimeError: no Celery worker answered within 1 s"
    }
    assert response.status_code == 503 and response.json()["status"] == "degraded"


@pytest.mark.django_db
def test_it_reports_an_unreachable_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    checks = client.get("/api/v1/health").json()["checks"]
    assert checks["redis"]["ok"] is False
    assert "ConnectionError" in checks["redis"]["detail"]


@pytest.mark.parametrize("path", ["/api/v1/nowhere", "/api/v2/teams", "/api/"])
def test_it_answers_unknown_api_paths_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": f"No API endpoint at {path}"}


@pytest.mark.django_db
def test_it_answers_a_wrong_method_in_json(owner, api_client):
    response = api_client(owner).put("/api/v1/teams")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.mark.django_db
def test_it_answers_malformed_bodies_in_json(owner, api_client):
    response = api_client(owner).post("/api/v1/teams", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


@pytest.mark.django_db
def test_it_keeps_csrf_on_for_session_auth(owner):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=owner.username, password=PASSWORD)
    assert browser.get("/api/v1/me").status_code == 200
    refused = browser.post("/api/v1/teams", {"name": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    browser.get("/login/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/v1/teams", {"name": "x"}, content_type="application/json",
                            headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_it_serves_openapi_docs_with_operation_ids(client):
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"team_create", "membership_add", "api_token_create", "job_ping_start",
            "job_cancel", "health_get"} <= ids


@pytest.mark.django_db
def test_it_reports_an_unreachable_mlflow_fast_and_without_its_credentials(client):
    started = time.monotonic()
    with override_settings(MLFLOW_TRACKING_URI="http://oag:s3cret@127.0.0.1:9/"):
        check = client.get("/api/v1/health").json()["checks"]["mlflow"]
    assert time.monotonic() - started < 10
    assert check["ok"] is False and "127.0.0.1" in check["detail"]
    assert "s3cret" not in check["detail"]
