"""Settings, read from the environment. See README "Configuration"."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL, used in tracking links printed on labels and sent in e-mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "oms.admin_site.OmsAdminConfig",  # django.contrib.admin, names in the reader's language
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "import_export",
    "csp",
    "oms",
    "inventory",
    "orders",
    "fulfillment",
    "logistics",
    "connectors",
    "workflows",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "oms.request_guard.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "oms.language.ProfileLanguageMiddleware",  # a signed-in person's chosen language (oms/language.py)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the views' database errors first: a transient one answers 503 + Retry-After.
    "oms.db_unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

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
                "csp.context_processors.nonce",
                "oms.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL, default an embedded SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default serves the web, the worker and beat from one file. A deferred
    # transaction that later writes fails at once with "database is locked" while another
    # process writes, whatever the timeout; an IMMEDIATE one takes the write lock at BEGIN and
    # waits up to the busy timeout instead. WAL lets readers go on while one process writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "30")),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Reports read through the "reports" alias; REPORTS_DATABASE_URL points it at a replica.
if os.environ.get("REPORTS_DATABASE_URL"):
    DATABASES["reports"] = dj_database_url.parse(
        os.environ["REPORTS_DATABASE_URL"], conn_max_age=60, conn_health_checks=True
    )
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["oms.db_router.ReportsReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reports:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not env_bool("OMS_TESTING")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = DEBUG or env_bool("OMS_TESTING")

# E-mail
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "oms@example.com")

# Cache: Redis when REDIS_URL is set, else local memory.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. No CELERY_BROKER_URL: the embedded mode, a file-system transport under var/
# (a worker and beat still run, see `make run`), or eager execution when
# CELERY_TASK_ALWAYS_EAGER is set (tests' fast lane).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if not CELERY_BROKER_URL:
    _queue_dir = VAR_DIR / "celery-queue"
    CELERY_BROKER_URL = "filesystem://localhost//"  # a host named, so kombu has nothing to warn about
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "control_folder": str(VAR_DIR / "celery-control"),
        "store_processed": False,
    }
CELERY_TASK_EAGER_PROPAGATES = True
# The queue tasks go to (a test with a worker of its own uses a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Work older than this without its outcome (an order never routed, a message never applied, a notice
# never sent) is sent again by the sweep and listed on the Background work page.
OMS_STUCK_AFTER_SECONDS = int(os.environ.get("OMS_STUCK_AFTER_SECONDS", "180"))
# The outbox (oms/outbox/): a row that keeps failing is tried this many times (backoff 1, 2, 4 ... minutes,
# at most OMS_OUTBOX_BACKOFF_MAX_SECONDS apart), then it is dead: listed on the Background work page with Retry.
OMS_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OMS_OUTBOX_MAX_ATTEMPTS", "8"))
# Channel and carrier credentials are stored encrypted (oms/vault.py): Fernet keys, comma-separated, the first
# encrypts; empty: one key derived from SECRET_KEY.
OMS_CREDENTIALS_KEYS = os.environ.get("OMS_CREDENTIALS_KEYS", "")
OMS_OUTBOX_BACKOFF_MAX_SECONDS = int(os.environ.get("OMS_OUTBOX_BACKOFF_MAX_SECONDS", "3600"))
# A consumer holds the rows it took this long; if it dies meanwhile (SIGKILL), they are taken again after it.
OMS_OUTBOX_LEASE_SECONDS = int(os.environ.get("OMS_OUTBOX_LEASE_SECONDS", "300"))
# When outbox rows trickle in (one per shipping transaction), the consumer waits this many milliseconds after a
# round of fewer than OMS_OUTBOX_GATHER_BELOW rows and sends what arrived meanwhile together (0: never waits).
OMS_OUTBOX_GATHER_MS = float(os.environ.get("OMS_OUTBOX_GATHER_MS", "50"))
OMS_OUTBOX_GATHER_BELOW = int(os.environ.get("OMS_OUTBOX_GATHER_BELOW", "20"))
# A tracking push wakes the batch consumer at most once per this many seconds per process; the task it sends
# waits that long, so it applies every push stored meanwhile in one batch (logistics/intake.py).
OMS_TRACKING_NUDGE_SECONDS = float(os.environ.get("OMS_TRACKING_NUDGE_SECONDS", "0.5"))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Routing in windows (fulfillment/routing/window.py): orders waiting for routing are routed together, up to
# ROUTING_WINDOW_SIZE at a time, their assignment chosen jointly by HiGHS within ROUTING_WINDOW_TIME_LIMIT
# seconds (the greedy answer otherwise). An order left unrouted costs ROUTING_WINDOW_UNROUTED_PENALTY score
# points in that choice (more for the window's most urgent orders, by up to ROUTING_WINDOW_URGENCY). The beat
# runs a window every ROUTING_WINDOW_BEAT_SECONDS (oms/celery.py). ROUTING_IN_WINDOWS=0: one task per order.
ROUTING_IN_WINDOWS = env_bool("ROUTING_IN_WINDOWS", True)
ROUTING_WINDOW_SIZE = int(os.environ.get("ROUTING_WINDOW_SIZE", "500"))
ROUTING_WINDOW_TIME_LIMIT = float(os.environ.get("ROUTING_WINDOW_TIME_LIMIT", "5"))
# The solver stops once its answer is within ROUTING_WINDOW_GAP (relative, 1.5 %) of its proven bound, and gets
# ROUTING_WINDOW_SECONDS_PER_ORDER seconds per order of the window (at least 0.5 s, at most the time limit).
ROUTING_WINDOW_GAP = float(os.environ.get("ROUTING_WINDOW_GAP", "0.015"))
ROUTING_WINDOW_SECONDS_PER_ORDER = float(os.environ.get("ROUTING_WINDOW_SECONDS_PER_ORDER", "0.002"))
# A window also scores the next ROUTING_WINDOW_LOOKAHEAD waiting orders (not routed) and leaves them the stock
# they are likely to need (0: a window sees only its own orders).
ROUTING_WINDOW_LOOKAHEAD = int(os.environ.get("ROUTING_WINDOW_LOOKAHEAD", "500"))
# A replay's "gap to the optimum of the period" gives the solver this many seconds (fulfillment/routing/reroute.py).
ROUTING_REPLAY_TIME_LIMIT = float(os.environ.get("ROUTING_REPLAY_TIME_LIMIT", "30"))
ROUTING_WINDOW_UNROUTED_PENALTY = float(os.environ.get("ROUTING_WINDOW_UNROUTED_PENALTY", "100"))
ROUTING_WINDOW_URGENCY = float(os.environ.get("ROUTING_WINDOW_URGENCY", "0.05"))

# Content-Security-Policy on every response (django-csp). Every asset is served by the app itself, so 'self'
# is enough; scripts only from files (or a <script nonce="{{ CSP_NONCE }}">), never inline handlers. Style
# attributes are still allowed in the back office (templates use many); the public tracking page replaces
# style-src with 'self' alone (logistics/views.py). frame-ancestors 'self': our own pages may frame ours
# (the pack station's label preview), no other site may.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    }
}

# Production hardening (manage.py check --deploy is clean when DEBUG is off).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

DJANGO_TABLES2_TEMPLATE = "oms/table.html"
DJANGO_TABLES2_PAGE_RANGE = 5

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}

# Tracking webhooks: shared secrets per provider (also settable per carrier in the back office).
EASYPOST_WEBHOOK_SECRET = os.environ.get("EASYPOST_WEBHOOK_SECRET", "")
AFTERSHIP_WEBHOOK_SECRET = os.environ.get("AFTERSHIP_WEBHOOK_SECRET", "")
# Kdniao: the AppKey signs pushes (DataSign) and queries; the EBusinessID names the account.
KDNIAO_WEBHOOK_SECRET = os.environ.get("KDNIAO_WEBHOOK_SECRET", "")
KDNIAO_EBUSINESS_ID = os.environ.get("KDNIAO_EBUSINESS_ID", "")
# Carrier choice: a signature (and insurance) is required above these declared values.
SIGNATURE_VALUE_THRESHOLD = int(os.environ.get("SIGNATURE_VALUE_THRESHOLD", "2000"))
INSURANCE_VALUE_THRESHOLD = int(os.environ.get("INSURANCE_VALUE_THRESHOLD", "1000"))
# Font name a thermal printer uses for Chinese text in ZPL labels (^A@).
ZPL_FONT = os.environ.get("ZPL_FONT", "E:SIMSUN.TTF")
# Customers may start a return this many days after delivery.
RETURN_WINDOW_DAYS = int(os.environ.get("RETURN_WINDOW_DAYS", "30"))
# SMS adapter for customer messages: a dotted path to a class (default: write to the log).
OMS_SMS_ADAPTER = os.environ.get("OMS_SMS_ADAPTER", "orders.care.notifications.LogSmsAdapter")
# Stock pushes to channels (orders/atp.py): a dotted path to a function(url, payload) that POSTs or raises.
OMS_STOCK_PUSH_TRANSPORT = os.environ.get("OMS_STOCK_PUSH_TRANSPORT", "orders.atp.http_post_json")
# Signed tracking links stay valid this many days.
TRACKING_LINK_MAX_AGE_DAYS = int(os.environ.get("TRACKING_LINK_MAX_AGE_DAYS", "120"))
# Public tracking lookups allowed per client IP per minute.
TRACKING_LOOKUP_RATE = int(os.environ.get("TRACKING_LOOKUP_RATE", "10"))
# How many reverse proxies in front of the app append to X-Forwarded-For (oms/net.py: client_ip). 0: none,
# REMOTE_ADDR is the client and X-Forwarded-For is ignored.
OMS_TRUSTED_PROXY_COUNT = max(int(os.environ.get("OMS_TRUSTED_PROXY_COUNT", "0")), 0)
# Public tracking page: after this many failed contact checks on one order number within the window, lookups
# of that number are refused for the lockout time, whatever the IP (logistics/lookup_guard.py).
TRACKING_LOOKUP_FAILURES = int(os.environ.get("TRACKING_LOOKUP_FAILURES", "5"))
TRACKING_LOOKUP_LOCK_MINUTES = int(os.environ.get("TRACKING_LOOKUP_LOCK_MINUTES", "15"))
# Polling AfterShip's GET tracking API for tracking sources set to poll through AfterShip.
AFTERSHIP_API_KEY = os.environ.get("AFTERSHIP_API_KEY", "")
# Customer messages: off switch (nothing is queued from order events), e.g. while loading history.
OMS_NOTIFICATIONS_SUPPRESSED = env_bool("OMS_NOTIFICATIONS_SUPPRESSED", False)
# Largest evidence file on a carrier claim.
OMS_CLAIM_EVIDENCE_MAX_BYTES = int(os.environ.get("OMS_CLAIM_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))

# Order intake: the drop folders (<dir>/<channel-slug>/) and how close in time two orders of one
# customer with the same items on different channels must be to be held as likely duplicates.
INTAKE_DROP_DIR = Path(os.environ.get("INTAKE_DROP_DIR", VAR_DIR / "dropbox"))
INTAKE_DUPLICATE_WINDOW_HOURS = int(os.environ.get("INTAKE_DUPLICATE_WINDOW_HOURS", "24"))

# Spreadsheet imports (web and order files): the largest file the import page takes, the most data
# rows one import may have, the longest cell (a longer one rejects its row; Excel's own limit),
# the size up to which the preview is read in the upload request (bigger files are read by the
# worker), and after how many minutes without progress a job whose worker died is ended.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "1000000"))
IMPORT_MAX_CELL_CHARS = int(os.environ.get("IMPORT_MAX_CELL_CHARS", "32767"))
IMPORT_PREVIEW_INLINE_BYTES = int(os.environ.get("IMPORT_PREVIEW_INLINE_BYTES", str(1024 * 1024)))
IMPORT_STALE_MINUTES = int(os.environ.get("IMPORT_STALE_MINUTES", "30"))
# An order file is read, canonicalised and checked by a forked process of its own while the worker writes
# (orders/intake/read_ahead.py); off (or where forking is unsafe): a thread of the worker does it.
IMPORT_READ_PROCESS = env_bool("IMPORT_READ_PROCESS", True)
# The bulk import checks each COPY's foreign keys with one query per key instead of a trigger per row, where
# the database role may and nothing else is skipped (orders/intake/bulk_keys.py,
# docs/decisions/intake-batch-foreign-keys.md).
IMPORT_BATCH_KEY_CHECK = env_bool("IMPORT_BATCH_KEY_CHECK", True)
# The largest body the API and the order and tracking webhooks take (413 past it, the refusal recorded).
INTAKE_MAX_BODY_BYTES = int(os.environ.get("INTAKE_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
# Django's own cap on a non-file body must not cut in first (it would answer a bare 400).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(INTAKE_MAX_BODY_BYTES + 1024, 2621440)
