"""The job pattern every long piece of work uses.

A service creates the Job row and enqueues `job_run_task` on commit; the task claims the row
with a conditional update (so two workers never run one job), runs the kind's function with a
progress callback, and records the outcome. The callback saves progress (throttled), publishes
it live and raises JobCancelled once a cancel was requested. A heartbeat thread marks the job
alive; `job_sweep_stale` fails jobs whose worker died.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from oagweb.errors import ApplicationError, Conflict
from oagweb.events import publish_job_changed
from oagweb.models import Job, JobStatus, Team

logger = logging.getLogger(__name__)

# Progress is written and published at most this often: a tight training loop may report
# thousands of times a second, the browser needs a few updates a second.
PROGRESS_INTERVAL_SECONDS = 0.5


class JobCancelled(Exception):
    """Raised inside a running job by its progress callback once cancel was requested."""


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    params_parse: Callable[[dict[str, Any]], dict[str, Any]]
    run: Callable[[Job, "JobProgress"], dict[str, Any] | None]


_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    _KINDS[kind.name] = kind


def job_kind_get(name: str) -> JobKind:
    if name not in _KINDS:
        raise ApplicationError(f"Unknown job kind {name!r}; known: {', '.join(sorted(_KINDS))}")
    return _KINDS[name]


class JobProgress:
    """The callback a running job reports through: `progress(0.4, "epoch 2 of 5")`."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_save = 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        self.job.progress = min(max(float(fraction), 0.0), 1.0)
        if message:
            self.job.message = message[:500]
        now = time.monotonic()
        if now - self._last_save >= PROGRESS_INTERVAL_SECONDS:
            self._last_save = now
            self._save()

    def _save(self) -> None:
        job = self.job
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            progress=job.progress, message=job.message, heartbeat_at=timezone.now()
        )
        publish_job_changed(job)
        if Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
            raise JobCancelled()


def _enqueue(task: Any, job_id: int) -> None:
    # The limits travel with the message, so the settings of the process that starts the job
    # apply. The hard limit kills the pool process if the job ignores the soft one; the sweep
    # then fails the job when its heartbeat stops.
    soft = settings.JOB_SOFT_TIME_LIMIT
    task.apply_async((job_id,), soft_time_limit=soft, time_limit=soft + 30)


def job_start(
    *, user: AbstractBaseUser, team: Team, kind: str, params: dict[str, Any]
) -> Job:
    """Creates a queued job; enqueues it and publishes `job_changed` on commit."""
    from oagweb.tasks import job_run_task

    job_kind = job_kind_get(kind)
    clean = job_kind.params_parse(params)
    with transaction.atomic():
        job = Job.objects.create(
            team=team, created_by=user, kind=kind, params=clean, message="Waiting for a worker"
        )
        publish_job_changed(job, created=True)
        transaction.on_commit(lambda: _enqueue(job_run_task, job.pk))
    return job


def job_cancel(*, job: Job) -> Job:
    """Cancels a queued job at once, or asks a running one to stop at its next report."""
    if job.is_finished:
        raise Conflict(f"Job #{job.pk} already {job.status}")
    now = timezone.now()
    stopped = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now,
        message="Cancelled before it started",
    )
    if not stopped:
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            cancel_requested=True, message="Cancelling…"
        )
    job.refresh_from_db()
    publish_job_changed(job)
    return job


def _finish(job: Job, status: JobStatus, **fields: Any) -> None:
    # Conditional: the sweep may already have failed this job if its heartbeat lagged.
    done = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), **fields
    )
    if done:
        job.refresh_from_db()
        publish_job_changed(job)


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _claim(job_id: int, worker: str) -> Job | None:
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, worker=worker,
        message="Started",
    )
    return Job.objects.get(pk=job_id) if claimed == 1 else None


def job_run(*, job_id: int, worker: str, soft_time_limit: int | None = None) -> None:
    """Claims and runs a queued job, recording success, failure or cancellation."""
    job = _claim(job_id, worker)
    if job is None:
        return  # cancelled before it started, or another worker has it
    publish_job_changed(job)
    progress = JobProgress(job)
    with _heartbeat(job.pk):
        try:
            result = job_kind_get(job.kind).run(job, progress) or {}
        except JobCancelled:
            _finish(job, JobStatus.CANCELLED, progress=job.progress, message="Cancelled")
        except SoftTimeLimitExceeded:
            limit = soft_time_limit or settings.JOB_SOFT_TIME_LIMIT
            _finish(job, JobStatus.FAILED, progress=job.progress, message="Time limit exceeded",
                    error=f"Stopped: the time limit of {limit} s was exceeded")
        except ApplicationError as exc:
            _finish(job, JobStatus.FAILED, progress=job.progress, error=exc.message,
                    message="Failed")
        except Exception as exc:
            logger.exception("job %s (%s) crashed", job.pk, job.kind)
            _finish(job, JobStatus.FAILED, progress=job.progress, message="Failed",
                    error=f"{type(exc).__name__}: {exc}")
        else:
            message = str(result.get("message", "Done"))[:500]
            _finish(job, JobStatus.SUCCEEDED, progress=1.0, result=result, message=message)


def job_sweep_stale() -> int:
    """Fails running jobs whose worker stopped heartbeating; publishes each. Returns the count."""
    stale_for = settings.JOB_STALE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=stale_for)
    swept = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff):
        done = Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), message="Worker lost",
            error=f"The worker {job.worker or ''} stopped: no heartbeat for over {stale_for} s",
        )
        if done:
            job.refresh_from_db()
            publish_job_changed(job)
            swept += 1
    return swept
