"""Django settings for Reunite, read from the environment.

The embedded default needs no configuration at all: a SQLite database, secrets and private
media live under ``./var/`` (``REUNITE_VAR_DIR``), and the secrets are generated there on first
run.  Production (``REUNITE_ENV=production``) refuses to start without explicit secrets and turns
on every transport-security setting that ``manage.py check --deploy`` asks for.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent

env = environ.Env()

REUNITE_ENV = env.str("REUNITE_ENV", default="embedded")
PRODUCTION = REUNITE_ENV == "production"

VAR_DIR = Path(env.str("REUNITE_VAR_DIR", default=str(Path.cwd() / "var"))).resolve()


def _secret_from_var(name: str, make: str) -> str:
    """Read a secret kept under VAR_DIR, creating it (owner-readable only) on first use."""
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in the environment in production.")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name.lower()
    if not path.exists():
        value = Fernet.generate_key().decode() if make == "fernet" else secrets.token_urlsafe(64)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _secret_from_var("SECRET_KEY", "token")
# One or more Fernet keys, comma separated; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in (
        env.str("FIELD_ENCRYPTION_KEY", default="")
        or _secret_from_var("FIELD_ENCRYPTION_KEY", "fernet")
    ).split(",")
    if key.strip()
]

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "reunite.accounts",
    "reunite.audit",
    "reunite.people",
    "reunite.cases",
    "reunite.alerts",
    "reunite.notify",
    "reunite.dna",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reunite.audit.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "reunite.urls"
WSGI_APPLICATION = "reunite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reunite.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'reunite.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Separate test databases for separate checkouts/var dirs, so parallel runs don't collide.
    _suffix = hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:8]
    DATABASES["default"]["TEST"] = {"NAME": f"test_reunite_{_suffix}"}
    # No JIT compilation: Reunite's statements are index-driven, and on the large ones (a ring
    # of a million subscribers) compiling took seconds longer than running (3.9 s against 0.4 s).
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = f"{_pg_options.get('options', '')} -c jit=off".strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # Embedded mode serves static files through the finders; WhiteNoise still wants the folder.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    # Private media: never under STATIC or a public URL; served by an authorising view.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))))
        },
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: photos are checked by content (Pillow), not by extension, and capped in size.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50

# Rapid-search alerts (checked by reunite.alerts.policy; each may be set per deployment).
ALERTS = {
    # "hours since last seen:radius km" — the ring due from that time on (the Tuanyuan default).
    "RINGS": env.str("ALERTS_RINGS", default="0:100,1:200,2:300,3:500"),
    "REGION_AFTER_HOURS": env.float("ALERTS_REGION_AFTER_HOURS", default=4.0),
    "EXPIRE_AFTER_HOURS": env.float("ALERTS_EXPIRE_AFTER_HOURS", default=72.0),
    "RECENT_WINDOW_HOURS": env.float("ALERTS_RECENT_WINDOW_HOURS", default=72.0),
    "MINOR_UNDER_AGE": env.int("ALERTS_MINOR_UNDER_AGE", default=18),
    "MIN_DESCRIPTION_CHARS": env.int("ALERTS_MIN_DESCRIPTION_CHARS", default=20),
    "PUBLIC_BASE_URL": env.str("ALERTS_PUBLIC_BASE_URL", default="http://127.0.0.1:8000"),
    "CAP_SENDER": env.str("ALERTS_CAP_SENDER", default="alerts@reunite.invalid"),
    "SIGHTINGS_PER_ADDRESS": env.int("ALERTS_SIGHTINGS_PER_ADDRESS", default=5),
    "SIGHTINGS_WINDOW_S": env.int("ALERTS_SIGHTINGS_WINDOW_S", default=600),
}

# Alert subscribers and dispatch (reunite.notify; defaults and meanings in reunite.notify.conf).
NOTIFY_REDIS_URL = env.str("REUNITE_REDIS_URL", default="") or REDIS_URL
NOTIFY_QUEUE_BACKEND = env.str(
    "REUNITE_NOTIFY_BACKEND", default="redis" if env.str("REUNITE_REDIS_URL", default="") else "db"
)
NOTIFY_PUBLIC_BASE_URL = env.str("REUNITE_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
NOTIFY_REDIS_PREFIX = env.str("REUNITE_NOTIFY_REDIS_PREFIX", default="reunite:notify")
NOTIFY_THROTTLE_PER_SECOND = {
    "webhook": env.float("NOTIFY_WEBHOOK_PER_SECOND", default=0.0),
    "email": env.float("NOTIFY_EMAIL_PER_SECOND", default=50.0),
    "sms": env.float("NOTIFY_SMS_PER_SECOND", default=20.0),
}
NOTIFY_WEBHOOK_ALLOW_LOOPBACK = env.bool("NOTIFY_WEBHOOK_ALLOW_LOOPBACK", default=False)
NOTIFY_SMS_GATEWAY_URL = env.str("NOTIFY_SMS_GATEWAY_URL", default="")
NOTIFY_SMS_GATEWAY_TOKEN = env.str("NOTIFY_SMS_GATEWAY_TOKEN", default="")
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@reunite.invalid")

# DNA registry (reunite.dna): profile QC and laboratory file imports.
DNA_MIN_TYPED_LOCI = env.int("DNA_MIN_TYPED_LOCI", default=15)  # fewer typed STR loci: QC fails
DNA_ALLELE_MARGIN_REPEATS = env.float("DNA_ALLELE_MARGIN_REPEATS", default=3.0)  # beyond tables
DNA_IMPORT_MAX_BYTES = env.int("DNA_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
DNA_IMPORT_MAX_ROWS = env.int("DNA_IMPORT_MAX_ROWS", default=50_000)
# DNA matching (reunite.dna: engine, matching, battle): the LR threshold of a candidate, θ, the
# mutation model (a kinship case file's "mutation" object), the frequency table, how many families
# one battle chunk holds, a Dask scheduler for the battle ("local" or tcp://HOST:8786; empty: this
# process on every core), and how a saved profile is searched: "thread"
# (a background worker after commit), "inline" (right after commit, in the request) or "off"
# (only `reunite dna searches`).
DNA_MATCH_THRESHOLD = env.float("DNA_MATCH_THRESHOLD", default=10_000.0)
DNA_MATCH_THETA = env.float("DNA_MATCH_THETA", default=0.01)
DNA_MATCH_MUTATION = {"model": "stepwise", "rate": 0.002, "rate2": 0.0, "range": 0.1}
DNA_MATCH_FREQUENCY_TABLE = env.str("DNA_MATCH_FREQUENCY_TABLE", default="han_chinese")
DNA_MATCH_CHUNK_FAMILIES = env.int("DNA_MATCH_CHUNK_FAMILIES", default=1000)
DNA_MATCH_DASK = env.str("DNA_MATCH_DASK", default="")
DNA_MATCH_SEARCH_MODE = env.str("DNA_MATCH_SEARCH_MODE", default="thread")
DNA_MATCH_BATTLE_MODE = env.str("DNA_MATCH_BATTLE_MODE", default="thread")  # the web button
DNA_MATCH_DASK_TIMEOUT = env.float("DNA_MATCH_DASK_TIMEOUT", default=10.0)  # seconds to connect
