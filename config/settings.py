"""Atende settings: one file, driven by the environment.

Embedded mode (nothing set): SQLite, the in-memory channel layer, Celery tasks run eagerly.
Production mode (DATABASE_URL and REDIS_URL set): PostgreSQL through psycopg 3,
channels-redis, Celery with a Redis broker.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
    PRESENCE_TIMEOUT=(int, 120),
    PRESENCE_GRACE_SECONDS=(float, 10.0),
    DISTRIBUTION_SWEEP_SECONDS=(float, 30.0),
    DEADLINE_WAKE_AHEAD_SECONDS=(float, 900.0),
    COUNTS_COALESCE_SECONDS=(float, 0.1),
)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not (DATABASE_URL and REDIS_URL)

DEBUG = env("DEBUG")
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not EMBEDDED:
        # Signed sessions, CSRF tokens and password-reset links would be forgeable by anyone
        # who read this file: production mode never starts with the embedded key.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: production mode (DATABASE_URL and REDIS_URL set) needs a "
            "secret key of its own. Set SECRET_KEY to a long random string, e.g. the output "
            "of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "embedded-mode-insecure-key-set-SECRET_KEY-in-production-0123456789"
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "apps.core.admin_config.AtendeAdminConfig",  # django.contrib.admin, role-aware site
    # Before django.contrib.auth: its ``changepassword`` command replaces Django's.
    "apps.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "drf_spectacular",
    "csp",
    "drf_spectacular_sidecar",
    "mptt",
    "channels",
    "apps.core",
    "apps.organizations",
    "apps.teams",
    "apps.conversations",
    "apps.routing",
    "apps.skills",
    "apps.inbox",
    "apps.webhooks",
    "apps.floor",
    "apps.reports",
    "apps.webchat",
    "apps.simulation",
    "apps.demo",
    "apps.operations",
]

MIDDLEWARE = [
    # /healthz, /readyz, /metrics: answered first, whatever Host a probe sends.
    "apps.operations.middleware.OperationsMiddleware",
    "apps.core.middleware.RequestLimitsMiddleware",  # 413 before anything reads the body
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # whitenoise, streaming files asynchronously under ASGI (apps/core/static_serving.py)
    "apps.core.static_serving.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its 429 answer
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Under ASGI every request runs its sync code in a thread of its own, so persistent
    # connections (CONN_MAX_AGE) pile up one per thread; a psycopg pool per process is the
    # way to reuse connections there. DB_POOL_SIZE connections per process, 0: no pool.
    DB_POOL_SIZE = env.int("DB_POOL_SIZE", default=0)
    if DB_POOL_SIZE:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_SIZE),
            "max_size": DB_POOL_SIZE,
            # A request that waits longer for a connection is answered 503 (apps.core.http).
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            # Several requests of the embedded server write at once: wait for the lock
            # instead of failing with "database is locked".
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Bodies without a declared length are bounded here too (apps.core.limits, handler400: 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out usernames and addresses
    "apps.accounts.backends.PasswordBackend",  # ModelBackend, hashing outside held connections
    "apps.accounts.backends.AdminRoleBackend",  # the admin role may use the Django admin
]

# Failed sign-ins (django-axes), on the token endpoint, the login page and the admin login:
# counted in the cache (Redis in production, shared by every process) per (username,
# address) pair: 10 failures lock that pair for 5 minutes (never the username everywhere,
# never the address for everyone). An address has a ceiling of its own, much higher, against
# password spraying; a username with a few failures from anywhere hashes in a lane of its
# own (apps.accounts.lockout, backends).
AXES_HANDLER = "apps.accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
LOGIN_SUSPECT_FAILURES = env.int("LOGIN_SUSPECT_FAILURES", default=3)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts do not extend it
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # its admin pages list database records the cache handler never writes
# Password hashes checked at once per process (half the cores: the other half keeps serving
# everyone else); a sign-in waits this long for a slot, then 503.
LOGIN_HASH_CONCURRENCY = env.int(
    "LOGIN_HASH_CONCURRENCY", default=max(1, (os.cpu_count() or 2) // 2)
)
LOGIN_HASH_WAIT_SECONDS = env.float("LOGIN_HASH_WAIT_SECONDS", default=10.0)

# People's API tokens last this long from when they were issued (fixed, not sliding).
PERSON_TOKEN_LIFETIME_DAYS = env.int("PERSON_TOKEN_LIFETIME_DAYS", default=30)
PERSON_TOKENS_PER_PERSON = 10  # valid at once; a new one retires the oldest
WS_TICKET_SECONDS = 30  # POST /api/v1/ws-ticket: how long a ticket may wait to be used
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

# Applied wherever a password is set: the API, the admin forms, createsuperuser.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "apps.accounts.validators.PublishedPasswordValidator"},  # production mode
]

LANGUAGE_CODE = "en"
# Each language named in itself: the switch offers them as their speakers know them.
LANGUAGES = [("en", "English"), ("pt-br", "Português")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language switch is remembered for a year
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Production serves what collectstatic gathered here. The embedded server serves straight
# from the finders (below) and has nothing to collect: no STATIC_ROOT, or whitenoise would
# look for (and warn about) a directory that only collectstatic creates.
STATIC_ROOT = None if EMBEDDED else BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The embedded server serves static files straight from the finders (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED

# django-axes counts in the cache; embedded mode is one process, so its local memory cache
# is enough there (axes warns about it for multi-process deployments).
SILENCED_SYSTEM_CHECKS = [] if REDIS_URL else ["axes.W001"]

if REDIS_URL:
    # Redis pub/sub channels ignore the database number: the layer's prefix carries it, so
    # deployments (or test runs) on other databases of one Redis never hear each other.
    _redis_db = int(urlparse(REDIS_URL).path.lstrip("/") or 0)
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a group message is published once and each ASGI process fans it out
            # to its own sockets (the list-based layer pops one message per socket).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": "asgi" if _redis_db == 0 else f"asgi.db{_redis_db}.",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # Threads wait for one of a bounded number of connections (redis-py's
                # default pool fails at once when 100 are in use); a Redis that does not
                # answer within seconds is an error (a 503), never a hung request.
                "pool_class": "redis.BlockingConnectionPool",
                "max_connections": env.int("REDIS_CACHE_CONNECTIONS", default=50),
                "timeout": 5,
                "socket_connect_timeout": 5,
                "socket_timeout": 5,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a Redis broker in production; eager, in-process tasks in embedded mode.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A task a dead worker had taken is redelivered after this many seconds (Redis broker).
# Keep it longer than any task runs and never schedule countdowns longer than it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "sweep-routing": {
        "task": "apps.routing.tasks.sweep",
        "schedule": env("DISTRIBUTION_SWEEP_SECONDS"),
    },
}
DISTRIBUTION_SWEEP_SECONDS = env("DISTRIBUTION_SWEEP_SECONDS")
# The floor view's queue-depth chart: one snapshot per team a minute, kept this long.
FLOOR_SNAPSHOT_SECONDS = env.float("FLOOR_SNAPSHOT_SECONDS", default=60.0)
FLOOR_SNAPSHOT_KEEP_HOURS = env.float("FLOOR_SNAPSHOT_KEEP_HOURS", default=24.0)
CELERY_BEAT_SCHEDULE["floor-snapshots"] = {
    "task": "apps.floor.tasks.snapshot_queues",
    "schedule": FLOOR_SNAPSHOT_SECONDS,
}
# Embedded mode has no beat: the ASGI server runs the sweep itself (config/embedded_beat.py).
EMBEDDED_SWEEP = env.bool("EMBEDDED_SWEEP", default=True)

PRESENCE_TIMEOUT = env("PRESENCE_TIMEOUT")
# Websocket limits (apps.inbox.consumers): client messages per second per socket, with a
# burst; the largest client message; sockets one person may hold open (every process).
WS_MESSAGES_PER_SECOND = env.float("WS_MESSAGES_PER_SECOND", default=5.0)
WS_MESSAGE_BURST = env.int("WS_MESSAGE_BURST", default=20)
WS_MAX_MESSAGE_BYTES = env.int("WS_MAX_MESSAGE_BYTES", default=64 * 1024)
WS_MAX_SOCKETS_PER_PERSON = env.int("WS_MAX_SOCKETS_PER_PERSON", default=20)
DISTRIBUTION_SWEEP_SECONDS = env("DISTRIBUTION_SWEEP_SECONDS")
# The web chat's limits (apps.webchat.limits, docs/webchat.md), per public key and per
# address (the client's address as the ASGI server sees it).
WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_KEY = env.int(
    "WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_KEY", default=600)
WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_ADDRESS = env.int(
    "WEBCHAT_CONVERSATIONS_PER_MINUTE_PER_ADDRESS", default=10)
WEBCHAT_MESSAGES_PER_MINUTE_PER_KEY = env.int("WEBCHAT_MESSAGES_PER_MINUTE_PER_KEY", default=6000)
WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS = env.int(
    "WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS", default=60)
WEBCHAT_MAX_MESSAGE_CHARS = env.int("WEBCHAT_MAX_MESSAGE_CHARS", default=4000)
WEBCHAT_CONNECTIONS_PER_KEY = env.int("WEBCHAT_CONNECTIONS_PER_KEY", default=5000)
WEBCHAT_CONNECTIONS_PER_ADDRESS = env.int("WEBCHAT_CONNECTIONS_PER_ADDRESS", default=20)
# Time rules: the longest countdown a worker is woken with (also bounded by a quarter of the
# visibility timeout); later deadlines are armed by the sweep as they come within reach.
DEADLINE_WAKE_AHEAD_SECONDS = env("DEADLINE_WAKE_AHEAD_SECONDS")
PRESENCE_GRACE_SECONDS = env("PRESENCE_GRACE_SECONDS")
COUNTS_COALESCE_SECONDS = env("COUNTS_COALESCE_SECONDS")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Atende API",
    "DESCRIPTION": "Conversation routing for customer-service teams.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PresenceEnum": "apps.accounts.models.Presence",
        "ConversationStatusEnum": "apps.conversations.models.Status",
        "RuleTypeEnum": "apps.organizations.models.RuleType",
    },
}

# Logs go to standard error; LOG_FORMAT=json writes one JSON object per line (python-json-
# logger), for the servers' and the workers' own loggers too. Credentials in URLs are
# redacted whatever the format (apps.core.logging). Routing decisions are logged at INFO on
# "atende.routing" with the conversation and agent ids (apps.routing.services.history).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOG_LEVEL = env.str("LOG_LEVEL", default="WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "apps.core.logging.RedactCredentials"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s %(message)s"},
        "json": {"()": "apps.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
if LOG_FORMAT == "json":
    # uvicorn and celery configure handlers of their own, in text: route theirs here.
    LOGGING["loggers"] = {
        name: {"handlers": ["console"], "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "daphne")
    }
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics is open (it carries nothing private) unless this is set: then it wants
# "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

if not DEBUG and not EMBEDDED:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)

# HTTPS, usually terminated by a proxy in front (docs/operations.md).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# The header a trusted proxy sets to the scheme the client used, e.g. X-Forwarded-Proto.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp): the pages load only their own scripts (there are no
# inline ones), styles and images; the websocket and the API are on the same origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Outbound webhooks (apps.webhooks, docs/webhooks.md). Webhook targets on loopback, private,
# link-local or metadata addresses are refused unless WEBHOOK_ALLOW_PRIVATE is on (embedded
# mode's default, for the demo receiver on 127.0.0.1).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=EMBEDDED)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24.0)
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=10)
WEBHOOK_RUN_SECONDS = env.float("WEBHOOK_RUN_SECONDS", default=20.0)
WEBHOOK_KEEP_DAYS = env.int("WEBHOOK_KEEP_DAYS", default=7)
# Without a broker (embedded mode): "thread" sends from a background thread of the process,
# "inline" in the caller right after commit.
WEBHOOK_EAGER_DELIVERY = env.str("WEBHOOK_EAGER_DELIVERY", default="thread")
# Deliveries have a queue of their own, so that workers can be dedicated to them
# (`celery -A config worker -Q webhooks`); a worker started without -Q serves both queues.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {
    "celery": {"routing_key": "celery"},
    "webhooks": {"routing_key": "webhooks"},
}
CELERY_TASK_ROUTES = {"apps.webhooks.tasks.*": {"queue": "webhooks"}}
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {
    "task": "apps.webhooks.tasks.sweep",
    "schedule": env.float("WEBHOOK_SWEEP_SECONDS", default=10.0),
}
