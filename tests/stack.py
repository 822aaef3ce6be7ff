"""Real platform processes for tests: a Celery worker and a daphne server as subprocesses.

They run the project's own commands against the test database, so what they do is what
production does.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from oagweb.models import Job
from tests.services_plugin import free_port

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_tests() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def stack_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def _stop(process: subprocess.Popen, *, kill: bool = False) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


class WorkerProcess:
    def __init__(self, process: subprocess.Popen, name: str) -> None:
        self.process = process
        self.name = name

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, not a shutdown."""
        _stop(self.process, kill=True)


def _worker_ready(name: str, process: subprocess.Popen, timeout: float) -> None:
    from oagweb.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker exited with {process.returncode}")
        if app.control.ping(destination=[name], timeout=0.5):
            return
    raise TimeoutError(f"Celery worker {name} not ready within {timeout} s")


@contextmanager
def celery_worker(**env: str) -> Iterator[WorkerProcess]:
    """A real `celery worker` (prefork pool) consuming this test run's queue."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    argv = [sys.executable, "-m", "celery", "-A", "oagweb", "worker", "-n", name,
            "-Q", settings.CELERY_QUEUE, "--pool", "prefork", "--concurrency", "1",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    log = open(Path(settings.VAR_DIR) / f"worker-{name.split('@')[0]}.log", "wb")
    process = subprocess.Popen(argv, cwd=ROOT, env=stack_env(**env), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _worker_ready(name, process, timeout=60)
        yield WorkerProcess(process, name)
    finally:
        _stop(process)
        log.close()


def _http_ready(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def _served(name: str, argv: list[str], port: int, ready_path: str,
            env: dict[str, str]) -> Iterator[str]:
    """Runs a server subprocess until its `ready_path` answers; yields its base URL."""
    log = open(Path(settings.VAR_DIR) / f"{name}-{port}.log", "wb")
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _http_ready(base + ready_path, process, timeout=120)
        yield base
    finally:
        _stop(process)
        log.close()


def daphne_server(**env: str) -> AbstractContextManager[str]:
    """The ASGI app served by daphne (HTTP + WebSocket); yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
            "oagweb.asgi:application"]
    return _served("daphne", argv, port, "/api/v1/health/live", stack_env(**env))


def mlflow_server(folder: Path) -> AbstractContextManager[str]:
    """An MLflow tracking server as production runs it: own store, proxied artifacts."""
    port = free_port()
    argv = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination", str(folder / "artifacts")]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    return _served("mlflow", argv, port, "/health", env)

def job_wait(job_id: int, *statuses: str, timeout: float = 30) -> Job:
    """Polls the database until the job reaches one of `statuses`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        job = Job.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(
                f"job {job_id} is {job.status} ({job.message!r}), not {'/'.join(statuses)} "
                f"after {timeout} s"
            )
        time.sleep(0.1)
