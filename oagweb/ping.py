"""The demo job: "ping the workers". It proves the whole job path end to end."""

import os
import socket
import time
from typing import Any

from django.utils.translation import gettext_lazy as _

from oagweb.errors import ApplicationError
from oagweb.jobs import JobKind, JobProgress
from oagweb.models import Job

MAX_SECONDS = 120
STEPS_PER_SECOND = 4


def ping_params_parse(params: dict[str, Any]) -> dict[str, Any]:
    seconds = params.get("seconds", 3)
    fail = params.get("fail", False)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ApplicationError("seconds must be a number")
    if not 0 <= seconds <= MAX_SECONDS:
        raise ApplicationError(f"seconds must lie between 0 and {MAX_SECONDS}")
    if not isinstance(fail, bool):
        raise ApplicationError("fail must be true or false")
    return {"seconds": seconds, "fail": fail}


def ping_run(job: Job, progress: JobProgress) -> dict[str, Any]:
    seconds, fail = job.params["seconds"], job.params["fail"]
    steps = max(1, round(seconds * STEPS_PER_SECOND))
    started = time.monotonic()
    for step in range(steps):
        progress(step / steps, f"Step {step + 1} of {steps}")
        time.sleep(seconds / steps)
        if fail and step + 1 >= steps / 2:
            raise ApplicationError("Simulated failure half-way (the demo's 'fail' option)")
    host = socket.gethostname()
    elapsed = time.monotonic() - started
    return {"message": f"Pong from {host} (pid {os.getpid()}) after {elapsed:.1f} s",
            "host": host, "pid": os.getpid()}


PING_KIND = JobKind(
    name="ping", label=_("Ping the workers"), params_parse=ping_params_parse, run=ping_run
)
