"""The MLflow helper against the embedded sqlite store and a real remote tracking server."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from oagweb.health import health_check
from oagweb.tracking import (
    experiment_ensure,
    experiment_name,
    metrics_log,
    model_version_register,
    tracking_client,
    tracking_run,
)
from tests.stack import mlflow_server


@pytest.fixture(scope="module")
def mlflow_server_url():
    folder = Path(settings.VAR_DIR) / "mlflow-server"
    folder.mkdir(exist_ok=True)
    with mlflow_server(folder) as url:
        yield url


def _track_and_register(team, tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not really onnx, but bytes to store")
    with tracking_run(team=team, name="fit", params={"lr": 0.01, "epochs": 3}) as run:
        run_id = run.info.run_id
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            metrics_log(run_id=run_id, metrics={"loss": loss}, step=step)
        version = model_version_register(run_id=run_id, local_path=model,
                                         artifact_path="model", model_name=f"{team.slug}-clf")
    client = tracking_client()
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.experiment_id == experiment_ensure(team=team)
    assert stored.data.params == {"lr": "0.01", "epochs": "3"}
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.3)]
    assert int(version.version) == 1  # an int from sqlite stores, a str over REST
    artifacts = [a.path for a in client.list_artifacts(run_id, "model")]
    assert artifacts == ["model/model.onnx"]
    local = client.download_artifacts(run_id, "model/model.onnx", str(tmp_path / "back"))
    assert Path(local).read_bytes() == model.read_bytes()


@pytest.mark.django_db
def test_it_tracks_into_the_embedded_store(owner, tmp_path):
    _track_and_register(owner.team, tmp_path)
    experiment = tracking_client().get_experiment_by_name(experiment_name(owner.team))
    # Artifacts land under var/, not in ./mlruns of whatever the working directory is.
    assert experiment.artifact_location.startswith(Path(settings.MLFLOW_ARTIFACT_ROOT).as_uri())
    assert experiment.tags["team_id"] == str(owner.team.pk)


@pytest.mark.django_db
def test_it_tracks_into_a_remote_server(mlflow_server_url, owner, tmp_path):
    with override_settings(MLFLOW_TRACKING_URI=mlflow_server_url):
        _track_and_register(owner.team, tmp_path)
        experiment = tracking_client().get_experiment_by_name(experiment_name(owner.team))
        assert experiment.artifact_location.startswith("mlflow-artifacts:")


@pytest.mark.django_db
def test_it_gives_each_team_its_own_experiment(owner, stranger):
    assert experiment_ensure(team=owner.team) != experiment_ensure(team=stranger.team)
    assert experiment_ensure(team=owner.team) == experiment_ensure(team=owner.team)


@pytest.mark.django_db
def test_it_marks_a_run_that_raises_failed(owner):
    with pytest.raises(RuntimeError), tracking_run(team=owner.team, name="boom") as run:
        raise RuntimeError("diverged")
    assert tracking_client().get_run(run.info.run_id).info.status == "FAILED"


@pytest.mark.django_db
def test_it_reports_a_remote_server_healthy(mlflow_server_url):
    with override_settings(MLFLOW_TRACKING_URI=mlflow_server_url):
        assert health_check()["mlflow"] == {"ok": True, "detail": mlflow_server_url}
