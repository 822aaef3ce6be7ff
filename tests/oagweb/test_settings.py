"""Configuration from the environment: a bad value stops start-up naming the variable."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from oagweb.env import env_bool, env_int, env_list, env_origins, env_url, secret_key_load
from tests.stack import ROOT

LOAD = "import django; django.setup(); from django.conf import settings; print(settings.{})"


def _start(setting: str = "DEBUG", **env: str) -> subprocess.CompletedProcess:
    """Loads the settings in a fresh interpreter, as `manage.py` or a worker would."""
    clean = {k: v for k, v in os.environ.items() if k not in env}
    clean.update({"DJANGO_SETTINGS_MODULE": "oagweb.settings", **env})
    return subprocess.run([sys.executable, "-c", LOAD.format(setting)], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DEBUG", "maybe", "DEBUG must be true or false"),
    ("DATABASE_URL", "mysql://db/oag", "DATABASE_URL must be a URL with scheme"),
    ("DATABASE_URL", "postgres:///nohost", "DATABASE_URL has no host"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL with scheme redis, rediss"),
    ("CSRF_TRUSTED_ORIGINS", "example.com", "CSRF_TRUSTED_ORIGINS entries must be origins"),
    ("JOB_SOFT_TIME_LIMIT", "an hour", "JOB_SOFT_TIME_LIMIT must be an integer"),
    ("JOB_STALE_SECONDS", "3", "JOB_STALE_SECONDS must be larger than JOB_HEARTBEAT_SECONDS"),
    ("OAG_TORCH_THREADS", "0", "OAG_TORCH_THREADS must be at least 1"),
])
def test_it_stops_start_up_naming_a_bad_variable(variable, value, says):
    result = _start(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert says in result.stderr


def test_it_requires_a_secret_key_without_debug():
    result = _start(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_it_loads_production_settings_from_the_environment():
    result = _start("ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE", DEBUG="off",
                    SECRET_KEY="s" * 50, ALLOWED_HOSTS="oag.example.com, 10.0.0.5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['oag.example.com', '10.0.0.5'] True"


def test_it_defaults_to_the_embedded_services():
    result = _start("DATABASES['default']['ENGINE'], settings.REDIS_URL, "
                    "settings.MLFLOW_TRACKING_URI", DATABASE_URL="", REDIS_URL="",
                    MLFLOW_TRACKING_URI="")
    assert result.returncode == 0, result.stderr
    engine, redis_url, mlflow_uri = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert redis_url == "redis://127.0.0.1:6390/0"
    assert mlflow_uri.startswith("sqlite:///") and mlflow_uri.endswith("/mlflow.db")


def test_it_keeps_a_generated_secret_key_across_starts(tmp_path):
    first = secret_key_load(debug=True, var_dir=tmp_path)
    assert len(first) >= 50
    assert secret_key_load(debug=True, var_dir=tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_it_reads_typed_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLAG", " Yes ")
    monkeypatch.setenv("COUNT", "7")
    monkeypatch.setenv("HOSTS", "a, b,,c")
    monkeypatch.setenv("ORIGINS", "https://a.example, http://b.example:8000")
    monkeypatch.delenv("MISSING", raising=False)
    assert env_bool("FLAG", False) is True
    assert env_bool("MISSING", True) is True
    assert env_int("COUNT", 1, minimum=1) == 7
    assert env_list("HOSTS", []) == ["a", "b", "c"]
    assert env_origins("ORIGINS") == ["https://a.example", "http://b.example:8000"]
    assert env_url("MISSING", "redis://r:6379/1", schemes={"redis"}) == "redis://r:6379/1"
    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be at least 0"):
        env_int("COUNT", 1)
