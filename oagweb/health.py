"""Checks of the services the platform depends on, each ok or its error."""

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import redis
import requests
from django.conf import settings
from django.db import connection

from oagweb.celery import app as celery_app
from oagweb.tracking import tracking_client


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def _redis() -> str:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        return "redis " + client.info("server")["redis_version"]
    finally:
        client.close()


def _celery() -> str:
    replies = celery_app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered within 1 s")
    return f"{len(replies)} worker(s): " + ", ".join(sorted(name for r in replies for name in r))


def _mlflow() -> str:
    uri = urlsplit(settings.MLFLOW_TRACKING_URI)
    if uri.scheme not in {"http", "https"}:
        tracking_client().search_experiments(max_results=1)
        return f"{uri.scheme}://{uri.path}"
    # A server is asked directly, with a short timeout: MLflow's client retries for minutes.
    # Host and port only, in the request and the report: the URI may carry credentials.
    where = f"{uri.scheme}://{uri.hostname}" + (f":{uri.port}" if uri.port else "")
    auth = (unquote(uri.username), unquote(uri.password or "")) if uri.username else None
    requests.get(f"{where}{uri.path.rstrip('/')}/health", auth=auth, timeout=2).raise_for_status()
    return where


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database, "redis": _redis, "celery": _celery, "mlflow": _mlflow,
}


def health_check() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, "detail": check()}
        except Exception as exc:  # each failure is reported, not raised
            results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    return results
