from celery import current_task, shared_task
from django.conf import settings

from oagweb import jobs


@shared_task(
    name="oagweb.job_run_task",
    soft_time_limit=settings.JOB_SOFT_TIME_LIMIT,
    # The hard limit kills the process if the job ignores the soft one; the sweep then
    # marks it failed when its heartbeat stops.
    time_limit=settings.JOB_SOFT_TIME_LIMIT + 30,
)
def job_run_task(job_id: int) -> None:
    jobs.job_run(job_id=job_id, worker=current_task.request.hostname or "")


@shared_task(name="oagweb.job_sweep_stale_task")
def job_sweep_stale_task() -> int:
    return jobs.job_sweep_stale()
