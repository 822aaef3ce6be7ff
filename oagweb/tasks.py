from celery import current_task, shared_task

from oagweb import jobs


@shared_task(name="oagweb.job_run_task")  # time limits are set per message by jobs._enqueue
def job_run_task(job_id: int) -> None:
    request = current_task.request
    _hard, soft = request.timelimit or (None, None)
    jobs.job_run(job_id=job_id, worker=request.hostname or "", soft_time_limit=soft)


@shared_task(name="oagweb.job_sweep_stale_task")
def job_sweep_stale_task() -> int:
    return jobs.job_sweep_stale()
