"""Settings, all from the environment.

Two modes:
- embedded (the default): SQLite and a bundled Redis under ./var, secrets generated once into ./var.
- production (PORTAL_MODE=production): every secret must come from the environment, cookies are
  secure, HSTS and SSL redirect are on. See README.md, "Production".
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))

PORTAL_MODE = os.environ.get("PORTAL_MODE", "embedded")
if PORTAL_MODE not in ("embedded", "production"):
    raise ImproperlyConfigured("PORTAL_MODE must be 'embedded' or 'production'")
PRODUCTION = PORTAL_MODE == "production"


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name, default=False):
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


def secret_from_env_or_var(env_name, file_name, generate):
    """A secret from the environment; in embedded mode, generated once and kept in VAR_DIR."""
    value = os.environ.get(env_name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{env_name} must be set when PORTAL_MODE=production")
    path = VAR_DIR / file_name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate())
    return path.read_text().strip()


def new_fernet_key():
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = secret_from_env_or_var("DJANGO_SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys: the first encrypts, every one decrypts (rotation: prepend a new key,
# run `manage.py rotate_encryption_key`, then drop the old one).
ENCRYPTION_KEYS = env_list("PORTAL_ENCRYPTION_KEYS") or [
    secret_from_env_or_var("PORTAL_ENCRYPTION_KEYS", "encryption_key", new_fernet_key)
]

DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "channels",
    "axes",
    "portal",
    "clusters",
    "nodes",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}", conn_max_age=0, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The live-server tests share the test database with web server and Celery subprocesses, so it
    # must be a file, not SQLite's in-memory default.
    # must be a file, not SQLite's in-memory default; one per test run, so runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{os.getpid()}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, exactly channels_redis's 5 s
            # blocking pop: the read then times out and kills the websocket. Give reads room.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}],
            "prefix": os.environ.get("PORTAL_CHANNEL_PREFIX", "asgi"),
        },
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PORTAL_CELERY_QUEUE", "portal")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 5}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT failures for one user name from one address, that pair
# is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = int(os.environ.get("PORTAL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("PORTAL_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PORTAL_PROXY_COUNT", "0")) or None

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles" if PRODUCTION else None  # collectstatic is for production only
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production the files are served straight from the app folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Kubernetes calls: (connect, read) seconds.
KUBE_TIMEOUT = (
    float(os.environ.get("PORTAL_KUBE_CONNECT_TIMEOUT", "3")),
    float(os.environ.get("PORTAL_KUBE_READ_TIMEOUT", "5")),
)
# A followed pod log that stays silent this long is closed (the page says so and can reconnect).
KUBE_LOG_FOLLOW_IDLE_SECONDS = float(os.environ.get("PORTAL_LOG_FOLLOW_IDLE_SECONDS", "3600"))
# Where the "import a context" page looks for kubeconfig files the server can read.
KUBECONFIG_PATHS = [
    path
    for path in os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")).split(os.pathsep)
    if path
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("PORTAL_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("PORTAL_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in browsers for good: an explicit opt-in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# ---------------------------------------------------------------- nodes, agents and runs
# Agent calls: (connect, read) seconds; the node overview's usage reads get a shorter budget each,
# made concurrently, so one dead agent never holds up the page.
AGENT_TIMEOUT = (
    float(os.environ.get("PORTAL_AGENT_CONNECT_TIMEOUT", "3")),
    float(os.environ.get("PORTAL_AGENT_READ_TIMEOUT", "5")),
)
AGENT_USAGE_TIMEOUT = float(os.environ.get("PORTAL_AGENT_USAGE_TIMEOUT", "1.2"))
# The agent version this portal was built with; agents that report another one are flagged.
AGENT_EXPECTED_VERSION = os.environ.get("PORTAL_AGENT_VERSION", "0.1.0")
NODE_SAMPLE_SECONDS = float(os.environ.get("PORTAL_NODE_SAMPLE_SECONDS", "15"))
NODE_SAMPLE_RETENTION_DAYS = float(os.environ.get("PORTAL_NODE_SAMPLE_RETENTION_DAYS", "7"))
# How often an active run's state and log are copied from its agent; how long its agent may stay
# unreachable before the run is marked lost.
RUN_SYNC_SECONDS = float(os.environ.get("PORTAL_RUN_SYNC_SECONDS", "2"))
RUN_LOST_AFTER_SECONDS = float(os.environ.get("PORTAL_RUN_LOST_AFTER_SECONDS", "120"))
# Complete run logs are copied into the default storage under MEDIA_ROOT/<RUN_LOG_DIR>/<run id>.log.
RUN_LOG_DIR = os.environ.get("PORTAL_RUN_LOG_DIR", "run-logs")
FILE_PREVIEW_MAX_BYTES = int(os.environ.get("PORTAL_FILE_PREVIEW_MAX_BYTES", str(512 * 1024)))
# Uploads to agents are raw request bodies streamed on to the agent: Django never parses them, and
# the ASGI handler spools a body to a temporary file beyond FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB).
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE.update({
    "nodes-sample-usage": {"task": "nodes.tasks.sample_nodes", "schedule": NODE_SAMPLE_SECONDS},
    "nodes-sync-active-runs": {"task": "nodes.tasks.sync_active_runs", "schedule": 30.0},
})
# Volcano job phases and queue states are read from every cluster this often and pushed to open pages.
JOB_SYNC_SECONDS = float(os.environ.get("PORTAL_JOB_SYNC_SECONDS", "10"))
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE["jobs-sync-phases"] = {"task": "jobs.tasks.sync_job_phases", "schedule": JOB_SYNC_SECONDS}
