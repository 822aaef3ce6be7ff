"""A job whose worker is killed -9 is failed by the stale sweep, never left running."""

import time

import pytest
from django.test import override_settings

from oagweb.jobs import job_start, job_sweep_stale
from oagweb.models import JobStatus
from tests.stack import celery_worker, job_wait

STALE_SECONDS = 3


@pytest.mark.django_db(transaction=True)
def test_it_fails_a_job_whose_worker_was_killed(owner):
    with celery_worker(JOB_HEARTBEAT_SECONDS="1") as worker:
        job = job_start(user=owner, team=owner.team, kind="ping", params={"seconds": 60})
        job_wait(job.pk, JobStatus.RUNNING)
        worker.kill()

    with override_settings(JOB_STALE_SECONDS=STALE_SECONDS):
        assert job_sweep_stale() == 0  # the heartbeat is still fresh: not swept yet
        time.sleep(STALE_SECONDS + 1.5)
        assert job_sweep_stale() == 1

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.message == "Worker lost"
    assert worker.name in job.error and f"{STALE_SECONDS} s" in job.error
    assert job.finished_at is not None
