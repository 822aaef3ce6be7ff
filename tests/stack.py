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
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

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
def daphne_server(**env: str) -> Iterator[str]:
    """The ASGI app served by daphne (HTTP + WebSocket); yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
            "oagweb.asgi:application"]
    log = open(Path(settings.VAR_DIR) / f"daphne-{port}.log", "wb")
    process = subprocess.Popen(argv, cwd=ROOT, env=stack_env(**env), stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _http_ready(f"{base}/api/v1/health/live", process, timeout=60)
        yield base
    finally:
        _stop(process)
        log.close()


def job_wait(job_id: int, *statuses: str, timeout: float = 30) -> "Job":
    """Polls the database until the job reaches one of `statuses`; returns it."""
    from oagweb.models import Job

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
