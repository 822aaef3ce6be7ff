"""The one NinjaAPI at /api/v1/: authentication, error mapping, health, the app routers.

Every error under /api/ is JSON `{"detail": ...}` with its status code, never an HTML page.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from agents.api import router as agents_router
from agents.providers.base import ProviderError
from oagweb.auth import API_AUTH
from oagweb.errors import ApplicationError
from oagweb.health import health_check
from oagweb.router import router as core_router
from oagweb.schemas import ErrorOut, HealthOut
from reasoning.api import router as reasoning_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="oagweb API",
    version="1",
    description="Teams, API tokens and jobs of the oagweb platform. Authenticate with "
    "`Authorization: Bearer <token>` (create one under API tokens) or a browser session.",
    auth=API_AUTH,
    urls_namespace="api",
)


def _error(request: HttpRequest, detail: object, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, exc.body(), status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, str(exc) or "Not found", 404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, str(exc) or "Permission denied", 403)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Authentication required: send 'Authorization: Bearer <token>' or log in"
    return _error(request, detail, 401)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, exc.errors, 422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(ProviderError)
def _provider_failed(request: HttpRequest, exc: ProviderError) -> HttpResponse:
    # The model provider failed, not the caller: a bad gateway, with the provider's words.
    status = f" (HTTP {exc.status})" if exc.status else ""
    return _error(request, f"The model provider failed{status}: {exc.message}", 502)


@api.exception_handler(Exception)
def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return _error(request, "Internal server error", 500)


@api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, operation_id="health_get",
         tags=["health"])
def health_get(request: HttpRequest):
    """Database, Redis, Celery workers and MLflow: each ok or the error. 503 if any fails."""
    checks = health_check()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return Status(200 if healthy else 503, body)


@api.get("/health/live", auth=None, response={200: dict}, operation_id="health_live",
         tags=["health"])
def health_live(request: HttpRequest):
    """The web process answers (for load balancers and container healthchecks)."""
    return {"status": "ok"}


api.add_router("/", core_router)
api.add_router("/", agents_router)
api.add_router("/", reasoning_router)


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Unknown paths under /api/ answer JSON too, whatever DEBUG says."""
    return _error(request, f"No API endpoint at {request.path}", 404)


__all__ = ["api", "api_not_found", "ErrorOut"]
