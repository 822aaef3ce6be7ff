"""The MLflow helper every app tracks through: one experiment per team.

Works the same against the embedded sqlite store and a remote tracking server; with a local
store, artifacts go under MLFLOW_ARTIFACT_ROOT instead of ./mlruns of whatever the current
directory happens to be.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from oagweb.models import Team


def tracking_client() -> MlflowClient:
    return MlflowClient(tracking_uri=settings.MLFLOW_TRACKING_URI)


def _is_local_store(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


def experiment_name(team: Team) -> str:
    return f"team-{team.slug}"


def experiment_ensure(*, team: Team) -> str:
    """The id of the team's experiment, created on first use."""
    client = tracking_client()
    name = experiment_name(team)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if _is_local_store(settings.MLFLOW_TRACKING_URI):
        location = (Path(settings.MLFLOW_ARTIFACT_ROOT) / name).resolve().as_uri()
    return client.create_experiment(name, artifact_location=location,
                                    tags={"team_id": str(team.pk)})


@contextmanager
def tracking_run(
    *, team: Team, name: str, params: Mapping[str, object] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Run]:
    """A run in the team's experiment, ended FINISHED, or FAILED when the block raises."""
    client = tracking_client()
    run = client.create_run(experiment_ensure(team=team), run_name=name, tags=dict(tags or {}))
    run_id = run.info.run_id
    for key, value in (params or {}).items():
        client.log_param(run_id, key, value)
    try:
        yield run
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")


def metrics_log(*, run_id: str, metrics: Mapping[str, float], step: int = 0) -> None:
    client = tracking_client()
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value), step=step)


def model_version_register(
    *, run_id: str, local_path: Path, artifact_path: str, model_name: str
) -> ModelVersion:
    """Uploads a model file or folder to the run and registers it as a new version."""
    client = tracking_client()
    if local_path.is_dir():
        client.log_artifacts(run_id, str(local_path), artifact_path)
    else:
        client.log_artifact(run_id, str(local_path), artifact_path)
    if not client.search_registered_models(filter_string=f"name = '{model_name}'"):
        client.create_registered_model(model_name)
    source = f"{client.get_run(run_id).info.artifact_uri}/{artifact_path}"
    return client.create_model_version(model_name, source=source, run_id=run_id)
