"""Checks of the services the platform depends on, each ok or its error."""

from collections.abc import Callable
from urllib.parse import urlsplit

import redis
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
    tracking_client().search_experiments(max_results=1)
    uri = urlsplit(settings.MLFLOW_TRACKING_URI)
    return f"{uri.scheme}://{uri.hostname or ''}{uri.path if uri.scheme == 'sqlite' else ''}"


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
