"""Palimpsest settings: one file, every deployment difference read from the environment.

Variables: DATABASE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, IMPORT_MAX_FILE_BYTES,
IMPORT_MAX_ARCHIVE_BYTES, IMPORT_MAX_UPLOAD_BYTES, IMPORT_STALE_MINUTES, MEDIA_ROOT,
TASKS_BACKEND, API_RATE_LIMIT, DATABASE_REPLICA_URL, STORED_PAGES, STORED_PAGES_LISTEN,
STORED_PAGES_MEMORY_MB; in production also STATIC_ROOT, CSRF_TRUSTED_ORIGINS,
TRUSTED_PROXY_COUNT, AXES_FAILURE_LIMIT, AXES_COOLOFF_MINUTES, SECURE_SSL_REDIRECT,
SECURE_HSTS_SECONDS, CONN_MAX_AGE, LOG_LEVEL.
See README.md, "Configuration", and docs/deploy.md.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_bool("DEBUG", False)
# Only a development server may run on the built-in key; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-palimpsest-development-only-key"
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "ninja",
    "policies",
    "annotations",
    "api",
]

MIDDLEWARE = [
    # First: an anonymous GET may read from the read replica, if any (config/replica.py).
    "config.replica.ReplicaReadsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Anonymous visitors' stored pages (policies.pagecache), with the headers above and
    # before the per-user work below.
    "policies.pagecache.StoredPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Anonymous visitors can read policies; LOGIN_REQUIRED=1 makes every page ask for sign-in.
LOGIN_REQUIRED = _env_bool("LOGIN_REQUIRED", False)
if LOGIN_REQUIRED:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    )

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.csp",
                "policies.context_processors.permissions",
                "annotations.context_processors.review_queue",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'palimpsest.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
# A PostgreSQL read replica of the default database: anonymous visitors' pages read from it,
# every write goes to the default (config/replica.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPLICA_DATABASE = "replica" if "replica" in DATABASES else None
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers the files that whitenoise serves.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The JSON API: requests per minute for each token (each signed-in user without a token, each
# address for anonymous callers), counted in Django's cache; past it, 429 with Retry-After.
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "120"))

# Company, capture and compare pages are stored as rendered and served again until what they
# show changes (policies.pagecache); STORED_PAGES=0 renders every request (benchmarks of the
# rendering). Each process keeps the most recent ones in memory, up to STORED_PAGES_MEMORY_MB.
STORED_PAGES = _env_bool("STORED_PAGES", True)
# On PostgreSQL each process LISTENs for changes and so need not read a company's version on
# every request; off: one indexed read per request (and no extra connection per process).
STORED_PAGES_LISTEN = _env_bool("STORED_PAGES_LISTEN", True)
STORED_PAGES_MEMORY_BYTES = int(os.environ.get("STORED_PAGES_MEMORY_MB", "64")) * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Importer limits (bytes); the command's --max-file-size overrides the first.
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", str(5 * 1024 * 1024)))
IMPORT_MAX_ARCHIVE_BYTES = int(os.environ.get("IMPORT_MAX_ARCHIVE_BYTES", str(2 * 1024**3)))

# Imports from the browser: uploads are kept under MEDIA_ROOT/imports/<run id>/ until their run
# finishes. One request may carry at most DATA_UPLOAD_MAX_NUMBER_FILES files and
# IMPORT_MAX_UPLOAD_BYTES bytes in all; a run whose heartbeat is older than IMPORT_STALE_MINUTES
# is shown as failed (its worker died).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
DATA_UPLOAD_MAX_NUMBER_FILES = 100
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(256 * 1024**2)))
IMPORT_STALE_MINUTES = int(os.environ.get("IMPORT_STALE_MINUTES", "10"))

# Background tasks (django.tasks). "database" (default) queues them in the database for
# `manage.py db_worker` (which `make run` starts); "immediate" runs them inside the request.
_TASK_BACKENDS = {
    "database": "django_tasks_db.backend.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[os.environ.get("TASKS_BACKEND", "database")]}}

# Production hardening: on whenever DEBUG is off.
if not DEBUG:
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 60 * 60 * 12
# A session cookie (gone when the browser quits, e.g. on a shared lab machine) that the server
# also refuses after SESSION_COOKIE_AGE, however long the browser stays open.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Origins (scheme://host) allowed to POST besides the site itself, e.g. when the proxy serves
# the site under another host name than the one Django sees.
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from
# one address, that pair is refused for the cool-off; other addresses can still sign in as that
# user, so a stranger cannot lock a colleague out. A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind TRUSTED_PROXY_COUNT proxies, REMOTE_ADDR is the proxy's: the client is the address the
# outermost trusted proxy appended to X-Forwarded-For (the n-th entry from the right).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


def _client_ip(request) -> str | None:
    """The client's address for django-axes (see TRUSTED_PROXY_COUNT)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if TRUSTED_PROXY_COUNT and len(hops) >= TRUSTED_PROXY_COUNT:
        return hops[-TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


AXES_CLIENT_IP_CALLABLE = _client_ip

# Content Security Policy (Django 6): no inline script, no eval; scripts carry the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusal_without_traceback": {"()": "config.logfilters.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # A refused page (403) or a bad request (400) is logged on one line, without a
        # traceback: an answer, not a failure.
        "django.request": {"filters": ["refusal_without_traceback"]},
        # Django's own console handler (on under DEBUG) would print every django.* record a
        # second time next to the root's: its records go to the root's handler only.
        "django": {"handlers": [], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    },
}
