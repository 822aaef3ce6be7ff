"""The job pattern run by a real Celery worker through Redis (not eager)."""

import asyncio
import os

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from oagweb.events import team_group
from oagweb.jobs import job_cancel, job_start
from oagweb.models import JobStatus
from tests.stack import celery_worker, job_wait

SOFT_TIME_LIMIT = 4

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    with celery_worker() as process:
        yield process


def _ping(user, **params):
    return job_start(user=user, team=user.team, kind="ping", params=params)


def test_it_runs_the_ping_job_to_success_on_a_real_worker(worker, owner):
    job = job_wait(_ping(owner, seconds=0.5).pk, JobStatus.SUCCEEDED)
    assert job.progress == 1.0
    assert job.message.startswith("Pong from ")
    assert job.result["pid"] != os.getpid()  # ran in the worker, not here
    assert job.worker == worker.name
    assert job.started_at <= job.finished_at


def test_it_publishes_every_state_change_to_the_team_group(worker, owner):
    async def collect() -> tuple[int, list[str]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(team_group(owner.team.pk), channel)
        job = await sync_to_async(_ping)(owner, seconds=1)
        seen: list[str] = []
        while not seen or seen[-1] != JobStatus.SUCCEEDED:
            message = await asyncio.wait_for(layer.receive(channel), timeout=30)
            assert message["event"]["data"]["id"] == job.pk
            seen.append(message["event"]["data"]["status"])
        return job.pk, seen

    job_id, seen = async_to_sync(collect)()
    assert seen[0] == JobStatus.QUEUED
    assert JobStatus.RUNNING in seen
    assert seen.count(JobStatus.SUCCEEDED) == 1


def test_it_records_the_error_of_a_failing_job(worker, owner):
    job = job_wait(_ping(owner, seconds=1, fail=True).pk, JobStatus.FAILED)
    assert "Simulated failure" in job.error
    assert 0 < job.progress < 1.0  # the last progress reported before the failure
    assert job.finished_at is not None


def test_it_stops_a_running_job_when_cancelled(worker, owner):
    job = _ping(owner, seconds=60)
    job_wait(job.pk, JobStatus.RUNNING)
    job_cancel(job=job)
    job = job_wait(job.pk, JobStatus.CANCELLED, timeout=10)
    assert job.message == "Cancelled"
    assert job.progress < 0.5


@override_settings(JOB_SOFT_TIME_LIMIT=SOFT_TIME_LIMIT)
def test_it_fails_a_job_over_the_soft_time_limit(worker, owner):
    job = job_wait(_ping(owner, seconds=60).pk, JobStatus.FAILED, timeout=SOFT_TIME_LIMIT + 20)
    assert f"time limit of {SOFT_TIME_LIMIT} s" in job.error
    # The worker process survived and takes the next job.
    job_wait(_ping(owner, seconds=0).pk, JobStatus.SUCCEEDED)


def test_it_never_runs_a_job_cancelled_while_queued(owner):
    # No worker consumes the queue here (the module worker may be up: it must skip the job).
    job = _ping(owner, seconds=0)
    job = job_cancel(job=job)
    assert job.status == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.started_at is None
