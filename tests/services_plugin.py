"""Gives the test run its services before Django loads settings.

Loaded with `-p` (see pyproject.toml) so it runs before pytest-django reads the settings:
an isolated state folder, a queue and channel prefix of its own (so a `make run` sharing the
Redis never sees test jobs), and the embedded Redis when REDIS_URL is not set.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_state: dict[str, object] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: object, args: object
) -> None:
    from oagweb.embedded_redis import redis_start

    var_dir = Path(tempfile.mkdtemp(prefix="oagweb-test-"))
    _state["var_dir"] = var_dir
    os.environ["OAG_VAR_DIR"] = str(var_dir)
    os.environ["OAG_CELERY_QUEUE"] = f"test-{os.getpid()}"
    if not os.environ.get("REDIS_URL"):
        port = free_port()
        _state["redis"] = redis_start(port=port, data_dir=var_dir / "redis")
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    return [
        f"oagweb: database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"redis {os.environ['REDIS_URL']}"
        + (" (embedded)" if "redis" in _state else ""),
    ]


def pytest_unconfigure(config: pytest.Config) -> None:
    redis = _state.pop("redis", None)
    if isinstance(redis, subprocess.Popen):
        redis.terminate()
        redis.wait(10)
    var_dir = _state.pop("var_dir", None)
    if isinstance(var_dir, Path):
        shutil.rmtree(var_dir, ignore_errors=True)
