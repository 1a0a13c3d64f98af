"""The one settings file. Every value comes from the environment through the typed helpers below.

With nothing set, the product runs on its embedded default: SQLite, a Celery broker on a SQLite file
(kombu's SQLAlchemy transport) and a local-memory cache. With ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` set, it runs on PostgreSQL, and Redis is the broker, the cache and the lock service.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from pathlib import Path
from urllib.parse import unquote, urlparse

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files of the embedded default (SQLite database, broker file, outbox files); see README.
VAR_DIR = Path(os.environ.get("CLM_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """``postgres://user:pass@host:port/name`` or ``sqlite:///path`` to a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme == "sqlite":
        return sqlite_database(Path(unquote(parsed.path)))
    raise ImproperlyConfigured(
        f"DATABASE_URL={url!r}: the scheme must be postgres://, postgresql:// or sqlite:///."
    )


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # The web server, the worker and beat share the file: WAL lets readers run beside a writer,
        # IMMEDIATE takes the write lock at BEGIN so two writers queue instead of deadlocking.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        "TEST": {"NAME": None},
    }


# Off unless asked for: the demo command (run-demo.sh) and the test settings (clm/test_settings.py) turn
# it on; a deployment that forgets the variable gets the production profile, not tracebacks.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
# The key of the hashes under which an erased customer's refusal is kept (customers.privacy): set it
# once; a new key makes the erased refusals unmatchable.
SUPPRESSION_HASH_KEY = env_str("SUPPRESSION_HASH_KEY", SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "template_partials",
    "axes",
    "audit",
    "customers",
    "contacts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "customers.middleware.ContentSecurityPolicyMiddleware",
    # Before sessions: a NUL byte in a cookie would otherwise reach PostgreSQL as a 500.
    "customers.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The request is the audit trail's "who and from where" (audit.trail).
    "audit.middleware.AuditContextMiddleware",
    # Every page needs a login unless its view is marked @login_not_required (login, health, API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into customers.accounts.login_locked_out.
    "axes.middleware.AxesMiddleware",
]

# --- Logins ---------------------------------------------------------------------------------------
# Every login form (the product's and the admin's) goes through django-axes first: after
# LOGIN_FAILURE_LIMIT wrong passwords in a row for one user from one address, that pair is locked for
# LOGIN_LOCKOUT_MINUTES (another address, or another user, is not). The attempts are rows in the
# database, so the lock works without Redis. Unlock: the admin's Access attempts, or
# ``manage.py axes_reset_username NAME`` (customers.accounts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "customers.accounts.login_locked_out"
# Behind the production proxy the client's address is X-Forwarded-For's first entry (AXES_IPWARE_*
# needs django-ipware); without a proxy, REMOTE_ADDR.
AXES_VERBOSE = False

ROOT_URLCONF = "clm.urls"
WSGI_APPLICATION = "clm.wsgi.application"

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
                "customers.access.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else sqlite_database(VAR_DIR / "clm.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Short socket timeouts: a Redis that is down or unreachable costs a request a second, not a hang
    # (the API's rate limit then fails open: customers.throttling).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_CONNECT_TIMEOUT_SECONDS", 1),
                "socket_timeout": env_int("REDIS_TIMEOUT_SECONDS", 5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Store UTC; calendar rules are computed in each dealership's own zone (Dealership.time_zone).
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

DEFAULT_DEALERSHIP_TIME_ZONE = env_str("DEFAULT_DEALERSHIP_TIME_ZONE", "Europe/Moscow")
# One contact budget per person across the group: customers of different dealerships who share a
# phone are one household for contact pressure (calls and messages of one count against the other).
CLM_HOUSEHOLD_ACROSS_DEALERSHIPS = env_bool("CLM_HOUSEHOLD_ACROSS_DEALERSHIPS", True)
# Households per chunk of the morning queue build (one task each, on any worker; contacts.queues.build).
CLM_BUILD_CHUNK_HOUSEHOLDS = env_int("CLM_BUILD_CHUNK_HOUSEHOLDS", 2000)
if DEFAULT_DEALERSHIP_TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"DEFAULT_DEALERSHIP_TIME_ZONE={DEFAULT_DEALERSHIP_TIME_ZONE!r} is not an IANA zone.")

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# No result backend by default: tasks record their effects in the database. Benchmarks set one.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# A task that runs away is stopped: soft limit first so it can clean up, then the hard kill. Every
# task is small (a re-plan chunk is seconds, a dealership's build about a minute at 400,000 customers),
# so the limits are short: lost work is redone within five minutes (contacts.recovery).
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 200)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 225)
# A killed worker's tasks go back to the queue; every task is idempotent, so a rerun is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task that was taken and never acknowledged (its worker was killed) after the
# visibility timeout: matched to the hard time limit, so no running task is delivered twice and no
# lost one waits kombu's default hour.
# (Redis only: the embedded default's SQLAlchemy transport hands its options to create_engine, which
# refuses this one.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 30} if CELERY_BROKER_URL.startswith(("redis", "rediss")) else {}
)
# Two queues: the nightly sweeps ("sweeps") never delay interactive work and the morning build
# ("celery": re-plans after a change, builds, messages, claims). Production runs a worker for each
# (README, production); the embedded default runs one worker on both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "contacts.tasks.replan_all_vehicles": {"queue": "sweeps"},
    "contacts.tasks.replan_vehicle_range": {"queue": "sweeps"},
    "contacts.tasks.compute_metrics_snapshots": {"queue": "sweeps"},
    "contacts.tasks.compute_metrics_snapshot": {"queue": "sweeps"},
    "customers.tasks.detect_duplicate_customers": {"queue": "sweeps"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Each entry expires: a tick that waited in the queue past its use (workers were down) is dropped
# rather than run late in a burst.
CELERY_BEAT_SCHEDULE = {
    # Liveness: the health page shows the last tick a worker executed. Every minute.
    "record-beat-tick": {
        "task": "contacts.tasks.record_beat_tick",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Nightly forecast + re-plan of every vehicle, fanned out in chunks (https://crontab.guru/#30_0_*_*_*).
    "replan-all-vehicles": {
        "task": "contacts.tasks.replan_all_vehicles",
        "schedule": crontab(minute=30, hour=0),
        "options": {"expires": 6 * 3600},
    },
    # Every minute: builds today's queue for each dealership whose local morning has come, and queues
    # again a build that was lost (https://crontab.guru/#*_*_*_*_*).
    "build-due-queues": {
        "task": "contacts.tasks.build_due_queues",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every minute: the nightly sweep's lost chunks are queued again.
    "requeue-lost-work": {
        "task": "contacts.tasks.requeue_lost_work",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Nightly: the dashboards' figures into summary rows (https://crontab.guru/#30_2_*_*_*).
    "compute-metrics-snapshots": {
        "task": "contacts.tasks.compute_metrics_snapshots",
        "schedule": crontab(minute=30, hour=2),
        "options": {"expires": 6 * 3600},
    },
    # Nightly: pairs of customers who may be one person, for the Duplicates page (https://crontab.guru/#15_2_*_*_*).
    "detect-duplicate-customers": {
        "task": "customers.tasks.detect_duplicate_customers",
        "schedule": crontab(minute=15, hour=2),
        "options": {"expires": 6 * 3600},
    },
    # Every five minutes: idle claims go back to the pool (https://crontab.guru/#*/5_*_*_*_*).
    "release-stale-claims": {
        "task": "contacts.tasks.release_stale_claims",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 290},
    },
    # Every five minutes: hand-offs past their SLA escalate (https://crontab.guru/#*/5_*_*_*_*).
    "sweep-handoffs": {
        "task": "contacts.tasks.sweep_handoffs",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 290},
    },
    # Every ten minutes: send the outbox's due SMS and e-mails (https://crontab.guru/#*/10_*_*_*_*).
    "send-due-messages": {
        "task": "contacts.tasks.send_due_messages",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 590},
    },
}

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Our own tokens (customers.models.ApiToken): expiry, scopes, use recorded; then the web session.
        "customers.token_authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with a body size and nesting limit (customers.parsers); forms keep Django's own limits.
    "DEFAULT_PARSER_CLASSES": [
        "customers.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Fails open, logged, when the cache that holds its counters (Redis) is down.
    "DEFAULT_THROTTLE_CLASSES": ["customers.throttling.FailOpenUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_THROTTLE_RATE", "6000/minute")},
}
# A new API token's lifetime unless its creator chooses another (at most API_TOKEN_MAX_DAYS).
API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 366)
SPECTACULAR_SETTINGS = {
    "TITLE": "Dealer CLM API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets come from the pinned drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # The three refusal columns of a customers row (customers.importing.REFUSAL_WORDS) share one enum.
    "ENUM_NAME_OVERRIDES": {"RefusalEnum": ["yes", "no"]},
}

# --- Imports --------------------------------------------------------------------------------------
# An import waiting or running with no progress for this long is shown as stalled, with a retry
# (a worker writes progress every 2,000 rows, a few seconds apart; a queued file waits seconds).
IMPORT_STALLED_AFTER = dt.timedelta(minutes=env_int("IMPORT_STALLED_AFTER_MINUTES", 5))

# --- Messages (SMS, e-mail) -----------------------------------------------------------------------
# Pluggable like Django's e-mail backends: "contacts.senders.ConsoleSender" or "contacts.senders.FileSender".
MESSAGE_SENDER = env_str("MESSAGE_SENDER", "contacts.senders.FileSender")
# One sender per channel (contacts.senders.get_sender): "contacts.channels.smsc.SmscSender" or
# "contacts.channels.twilio.TwilioSender" for SMS, "contacts.channels.email.EmailSender" for e-mail.
SMS_SENDER = env_str("SMS_SENDER", MESSAGE_SENDER)
EMAIL_SENDER = env_str("EMAIL_SENDER", MESSAGE_SENDER)
# The prefix of every message's idempotency key (SMSC's message id, the e-mail Message-ID): two
# deployments sharing one provider account need different prefixes.
MESSAGE_ID_PREFIX = env_str("MESSAGE_ID_PREFIX", "clm")
# A transient failure (provider down, rate limit) is retried after 1, 2, 4 ... minutes, this many times.
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 5)
MESSAGE_RETRY_BASE_SECONDS = env_int("MESSAGE_RETRY_BASE_SECONDS", 60)
# A message reserved longer than this belongs to a worker that died mid-send (> one send's timeout).
MESSAGE_RESERVATION_TIMEOUT_SECONDS = env_int("MESSAGE_RESERVATION_TIMEOUT_SECONDS", 300)
# Where customers' links (unsubscribe) and providers' callbacks reach this deployment.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The HMAC-SHA256 key that signs inbound SMS webhooks (header X-CLM-Signature); empty refuses them all.
INBOUND_SMS_SECRET = env_str("INBOUND_SMS_SECRET", "")
# SMSC.ru (https://smsc.ru/api/http/): login and password or API key, the approved sender name.
SMSC_API_URL = env_str("SMSC_API_URL", "https://smsc.ru").rstrip("/")
SMSC_LOGIN = env_str("SMSC_LOGIN", "")
SMSC_PASSWORD = env_str("SMSC_PASSWORD", "")
SMSC_SENDER_NAME = env_str("SMSC_SENDER_NAME", "")
# Twilio (Programmable Messaging): account SID, auth token, the sending number or messaging service.
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = env_str("TWILIO_FROM", "")
# Seconds one HTTP request to an SMS provider may take.
SMS_HTTP_TIMEOUT = env_int("SMS_HTTP_TIMEOUT", 15)
# E-mail through Django's SMTP backend (contacts.channels.email); the From name is the dealership's.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")
MESSAGE_FILE_DIR = Path(env_str("MESSAGE_FILE_DIR", str(VAR_DIR / "outbox")))

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Sessions, password reset, e-mail ---------------------------------------------------------------
# A session lasts one working shift, not Django's two weeks; a password-reset link one hour, not three days.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 10 * 3600)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600)
# Password-reset e-mails go through SMTP in production; to the console in development.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "clm@localhost")

# --- Production security (DEBUG off): `manage.py check --deploy` reports nothing ----------------
# Scripts and styles from this site only, none inline (no 'unsafe-inline', no eval): the pages' code is
# in static/js, their styles in static/css, htmx and Chart.js are vendored in static/vendor, and htmx is
# told not to inject its indicator <style> (templates/base.html). On in development too, so that the
# browser tests run under it; Django's debug error pages (DEBUG on, 4xx/5xx) go without it.
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY = env_str("CONTENT_SECURITY_POLICY", DEFAULT_CONTENT_SECURITY_POLICY)
# The API's docs page (Swagger UI, from the drf-spectacular-sidecar package) sets style attributes of
# its own: styles there may be inline; its scripts still come from this site only.
CONTENT_SECURITY_POLICY_API_DOCS = env_str(
    "CONTENT_SECURITY_POLICY_API_DOCS",
    CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
)
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer's health probe may come over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
