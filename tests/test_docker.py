"""Static checks of the production stack (no Docker engine runs on the test machines)."""

import re

import yaml

from tests.stack import ROOT

DOCKER = ROOT / "docker"


def _documented() -> set[str]:
    text = (DOCKER / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_it_documents_every_variable_the_app_reads():
    settings_py = (ROOT / "oagweb" / "settings.py").read_text()
    env_py = (ROOT / "oagweb" / "env.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', settings_py))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z0-9_]+)"', env_py))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "MLFLOW_TRACKING_URI"} <= read
    assert read - _documented() == set()


def test_it_documents_every_variable_compose_reads():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (DOCKER / "compose.yaml").read_text()))
    assert used - _documented() == set()


def test_it_has_a_healthcheck_on_every_long_running_service():
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mlflow"} <= set(services)
    for name, service in services.items():
        if service.get("restart") != "no":  # one-shot jobs such as migrate end by design
            assert "healthcheck" in service, name


def test_it_scales_workers_and_keeps_mlflow_on_postgres():
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]
    assert "container_name" not in services["worker"]  # `--scale worker=N` needs this
    assert "postgresql" in services["mlflow"]["command"]
    assert any("/mlartifacts" in volume for volume in services["mlflow"]["volumes"])
