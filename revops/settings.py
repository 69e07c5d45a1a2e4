"""Settings for revops, read from the environment (see README, "Configuration").

With no configuration at all, revops runs in debug mode on an embedded SQLite
database with Django-Q2's ORM broker. Production sets DEBUG=false, which makes
SECRET_KEY, ALLOWED_HOSTS and REVOPS_ENCRYPTION_KEYS mandatory.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from revops.env import env_bool, env_choice, env_decimal, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "insecure-local-development-key-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", None if not DEBUG else _DEV_SECRET_KEY, required=not DEBUG)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be a unique random value of at least 50 characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this site is served under.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Fernet keys for secrets stored in the database (connector credentials, webhook
# secrets). The first key encrypts; every key decrypts, so keys can be rotated by
# putting a new one first.
_raw_keys = env_list("REVOPS_ENCRYPTION_KEYS", [])
if not _raw_keys:
    if not DEBUG:
        raise ImproperlyConfigured(
            "REVOPS_ENCRYPTION_KEYS must be set when DEBUG is false "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    _raw_keys = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]
for _index, _key in enumerate(_raw_keys):
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            f"REVOPS_ENCRYPTION_KEYS item {_index + 1} is not a valid Fernet key (32 url-safe base64 bytes)."
        ) from None
REVOPS_ENCRYPTION_KEYS = _raw_keys

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "simple_history",
    "django_q",
    "revops",
    "connectors",
    "reconciliation",
    "reconciliation.statements",
    "exceptions_queue",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "revops.web.middleware.CorrelationIdMiddleware",
]

ROOT_URLCONF = "revops.urls"
WSGI_APPLICATION = "revops.wsgi.application"

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
                "revops.context_processors.roles",
            ],
        },
    }
]

# Database: DATABASE_URL (postgres://user:pass@host:port/name), else embedded SQLite.
_default_db = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", _default_db),
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web server and the worker share the
    # embedded database without "database is locked" errors.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
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

# Email: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "revops@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Django-Q2: ORM broker on the main database by default; Redis when REDIS_URL is set.
Q_TIMEOUT = env_int("Q_TIMEOUT", 300, minimum=1)
Q_RETRY = env_int("Q_RETRY", Q_TIMEOUT + 60, minimum=2)
if Q_RETRY <= Q_TIMEOUT:
    raise ImproperlyConfigured(
        f"Q_RETRY ({Q_RETRY}) must be greater than Q_TIMEOUT ({Q_TIMEOUT}), "
        "or a task still running would be delivered a second time."
    )
Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "revops"),
    "workers": env_int("Q_WORKERS", 2, minimum=1, maximum=64),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=0),
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "save_limit": env_int("Q_SAVE_LIMIT", 1000, minimum=0),
    "label": "Background jobs",
}
_redis_url = env_str("REDIS_URL")
if _redis_url:
    if not _redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL={_redis_url!r} must start with redis://, rediss:// or unix://."
        )
    Q_CLUSTER["redis"] = _redis_url
else:
    Q_CLUSTER["orm"] = "default"

# REST API (/api/v1/, see revops/api/): personal tokens or the browser session,
# the same permissions as the pages, one JSON error shape, cursor pages.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "revops.api.authentication.TokenAuthentication",
        "revops.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["revops.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["revops.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "revops.api.pagination.Cursor",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "revops.api.filters.StrictFilterBackend",
        "revops.api.ordering.StrictOrdering",
    ],
    "DEFAULT_SCHEMA_CLASS": "revops.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "revops.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "revops API",
    "DESCRIPTION": "The canonical quote-to-cash records, the exception queue and connectors of revops.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set called "status", so the schema's enums read plainly.
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "revops.models.parties.Customer.Status",
        "ContractStatusEnum": "revops.models.contracts.Contract.Status",
        "InvoiceStatusEnum": "revops.models.billing.Invoice.Status",
        "CreditNoteStatusEnum": "revops.models.billing.CreditNote.Status",
        "PaymentStatusEnum": "revops.models.payments.Payment.Status",
        "PaymentApplicationStatusEnum": "revops.models.payments.PaymentApplication.Status",
        "ExceptionStatusEnum": "exceptions_queue.models.Status",
        "SyncRunStatusEnum": "connectors.models.SyncRun.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "revops.api.schema.forbid_nul_characters",
    ],
}
# Requests per token (or per signed-in user) and period: "<n>/<second|minute|hour|day>".
REVOPS_API_RATE = env_str("REVOPS_API_RATE", "600/minute")
if not re.match(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$", REVOPS_API_RATE):
    raise ImproperlyConfigured(f"REVOPS_API_RATE must look like 600/minute, not {REVOPS_API_RATE!r}.")
# Hours an Idempotency-Key's first answer is kept for retries (a daily task forgets older ones).
REVOPS_API_IDEMPOTENCY_HOURS = env_int("REVOPS_API_IDEMPOTENCY_HOURS", 24, minimum=1, maximum=24 * 90)
# Largest API request body accepted (bytes); larger ones get a 413.
REVOPS_API_MAX_BODY_BYTES = env_int("REVOPS_API_MAX_BODY_BYTES", 1_000_000, minimum=1024)

# History: record the logged-in user on every change made in a request.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line names the flow (correlation id) whose work logged it, or "-".
    "filters": {"correlation": {"()": "revops.correlation.CorrelationIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["correlation"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Security. Production (DEBUG=false) gets the hardened defaults that
# `manage.py check --deploy` asks for; each can be turned off explicitly, e.g.
# SECURE_SSL_REDIRECT=false behind a proxy that already redirects.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = []
if not DEBUG and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")  # HSTS preload is an opt-in commitment, not a default.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Covering indexes (INCLUDE columns) speed PostgreSQL up; SQLite builds them without the extra columns.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

# Connectors reach only public https addresses unless a host or network is
# listed here (e.g. "127.0.0.1" or "10.0.0.0/8"); listed ones may also use http.
REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS = env_list("REVOPS_CONNECTOR_ALLOWED_PRIVATE_NETWORKS", [])

# Sync runs: attempts before a transient fault becomes a dead letter, and the
# longest wait between attempts (seconds; exponential backoff with full jitter).
REVOPS_SYNC_MAX_ATTEMPTS = env_int("REVOPS_SYNC_MAX_ATTEMPTS", 6, minimum=1, maximum=50)
REVOPS_SYNC_BACKOFF_CAP = env_int("REVOPS_SYNC_BACKOFF_CAP", 300, minimum=1)
# Records asked for per page (vendors may cap it lower: Stripe at 100).
REVOPS_SYNC_PAGE_SIZE = env_int("REVOPS_SYNC_PAGE_SIZE", 100, minimum=1, maximum=10_000)
# Records of consecutive pages written in one transaction with the cursor after
# them (1: each page on its own).
REVOPS_SYNC_BATCH_RECORDS = env_int("REVOPS_SYNC_BATCH_RECORDS", 2_000, minimum=1, maximum=50_000)

# Webhooks: largest body accepted, and how long event ids are remembered so a
# redelivery is ignored (Stripe retries for up to three days; keep 30 at least).
REVOPS_WEBHOOK_MAX_BYTES = env_int("REVOPS_WEBHOOK_MAX_BYTES", 1_000_000, minimum=1024)
REVOPS_WEBHOOK_RETENTION_DAYS = env_int("REVOPS_WEBHOOK_RETENTION_DAYS", 45, minimum=30)

# CSV imports: largest file accepted, and how many rows are imported during the
# upload request before the rest is handed to the background worker.
REVOPS_FILE_IMPORT_MAX_BYTES = env_int("REVOPS_FILE_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
REVOPS_FILE_IMPORT_SYNC_ROWS = env_int("REVOPS_FILE_IMPORT_SYNC_ROWS", 2000, minimum=0)

# Where people reach this app: the links in notification emails start with it.
REVOPS_BASE_URL = env_str("REVOPS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.match(r"^https?://[^/\s]+(/\S*)?$", REVOPS_BASE_URL):
    raise ImproperlyConfigured(
        f"REVOPS_BASE_URL must be an http(s) URL such as https://revops.example.com, not {REVOPS_BASE_URL!r}."
    )

# Exception queue: bulk actions on up to this many items run in the request;
# larger ones go to the background worker and report their progress.
REVOPS_BULK_INLINE_MAX = env_int("REVOPS_BULK_INLINE_MAX", 200, minimum=0, maximum=10_000)

# Lists stop counting exactly beyond this many rows and say "more than N".
REVOPS_LIST_COUNT_CAP = env_int("REVOPS_LIST_COUNT_CAP", 10000, minimum=100)

# Tax checks: how far an invoice line's tax may differ from the expected tax (rate
# table or tax engine), in the invoice's currency, before it opens TAX_MISMATCH.
REVOPS_TAX_TOLERANCE = env_decimal("REVOPS_TAX_TOLERANCE", "0.01", minimum="0", maximum="1000")

# The demo trickle (manage.py demo_trickle, connectors/demo_flow): a scheduled task
# that drives the demo's fake CRM, metering, billing, tax engine and ERP every minute.
# Off: no schedule is created and the task does nothing. It stops by itself after
# REVOPS_DEMO_TRICKLE_MAX_TICKS ticks (2,880: two days), so a demo left running stays small.
REVOPS_DEMO_TRICKLE = env_bool("REVOPS_DEMO_TRICKLE", True)
REVOPS_DEMO_TRICKLE_MAX_TICKS = env_int("REVOPS_DEMO_TRICKLE_MAX_TICKS", 2880, minimum=0, maximum=1_000_000)

# Days a reconciliation run's report lines are kept after it finished (a million a
# run at a million records a side); its totals and breaks are kept for good, and
# each reconciliation's latest run keeps its lines however old.
REVOPS_RECONCILIATION_LINES_DAYS = env_int("REVOPS_RECONCILIATION_LINES_DAYS", 90, minimum=1, maximum=36_500)

# Largest bank statement file (camt, BAI2, MT940) accepted by the upload page and
# manage.py import_statement, in bytes.
REVOPS_STATEMENT_MAX_BYTES = env_int("REVOPS_STATEMENT_MAX_BYTES", 10 * 1_048_576, minimum=1024)

# Business SLAs of a quote-to-cash flow, in hours: deal won → contract active,
# usage period closed → invoice issued, payment received → applied, invoice
# issued → posted to the ERP. A step done later, or still pending past it, breaches.
REVOPS_SLA_ORDER_ACTIVATION_HOURS = env_int("REVOPS_SLA_ORDER_ACTIVATION_HOURS", 24, minimum=1, maximum=8760)
REVOPS_SLA_INVOICE_GENERATION_HOURS = env_int(
    "REVOPS_SLA_INVOICE_GENERATION_HOURS", 72, minimum=1, maximum=8760
)
REVOPS_SLA_PAYMENT_POSTING_HOURS = env_int("REVOPS_SLA_PAYMENT_POSTING_HOURS", 48, minimum=1, maximum=8760)
REVOPS_SLA_ERP_SYNC_HOURS = env_int("REVOPS_SLA_ERP_SYNC_HOURS", 4, minimum=1, maximum=8760)
