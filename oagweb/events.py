"""Live events: services publish after commit to a team-scoped channel group.

Consumers join `team_group(team_id)` and forward what arrives; nothing else writes there.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from oagweb.models import Job

logger = logging.getLogger(__name__)

# The message type consumers handle: `oagweb.event` calls their `oagweb_event` method.
EVENT_MESSAGE_TYPE = "oagweb.event"


def team_group(team_id: int) -> str:
    return f"team-{team_id}"


def _send(team_id: int, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(
            team_group(team_id), {"type": EVENT_MESSAGE_TYPE, "event": event}
        )
    except Exception:
        # A live feed that misses one update must never fail the work that caused it.
        logger.exception("could not publish %s to team %s", event.get("type"), team_id)


def event_publish(*, team_id: int, type: str, data: dict[str, Any]) -> None:
    """Sends `{type, data}` to the team's group once the current transaction commits."""
    event = {"type": type, "data": data}
    transaction.on_commit(lambda: _send(team_id, event))


def job_event_data(job: Job, *, created: bool = False) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "worker": job.worker,
        "created": created,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def publish_job_changed(job: Job, *, created: bool = False) -> None:
    data = job_event_data(job, created=created)
    event_publish(team_id=job.team_id, type="oagweb.job_changed", data=data)
