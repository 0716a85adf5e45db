"""Settings for bdg-blog, read from the environment.

This module *is* production. With no service variables set it falls back to
embedded defaults (SQLite, in-memory channel layer, local-memory cache, media on
the local filesystem) so that a bare machine can run the site; `DEBUG=true`
is what the README's run command sets. Every variable is listed in
`.env.example` and in the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)

# A dev-only key, used only when DEBUG is on and no key is set. Production
# refuses to start without a real key rather than inventing one, because an
# invented key silently logs everyone out and breaks signed URLs on restart.
_DEV_SECRET_KEY = "dev-insecure-bdg-blog-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY: str = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters "
        "when DEBUG is off (python -c 'import secrets; "
        "print(secrets.token_urlsafe(64))')."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the site's host names when DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME: str = env.str("SITE_NAME", default="bdg.blog")

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "blog_site.apps.SiteStaticFilesConfig",  # django.contrib.staticfiles
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "reversion",
    "taggit",
    "accounts.apps.AccountsConfig",
    "media_store.apps.MediaStoreConfig",
    "posts.apps.PostsConfig",
    "talk.apps.TalkConfig",
    "backups.apps.BackupsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blog_site.urls"
ASGI_APPLICATION = "blog_site.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # `{% url %}` remembering what it reversed (blog_site/template_urls.py).
            "builtins": ["blog_site.template_urls"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "blog_site.context_processors.site",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Strict mode turns silent truncation into an error, so bad input
            # can never be stored half-way.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES', "
            "collation_connection='utf8mb4_unicode_ci'",
            "connect_timeout": 5,
        }
    )
    DATABASES["default"]["TEST"] = {
        "CHARSET": "utf8mb4",
        "COLLATION": "utf8mb4_unicode_ci",
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Threads that run HTTP requests' synchronous code under ASGI
# (blog_site/asgi_pool.py). Each keeps its own database connection, so this
# also bounds a process's connections to MariaDB for HTTP.
DJANGO_SYNC_THREADS: int = env.int("DJANGO_SYNC_THREADS", default=8)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and channel layer ----------------------------------------

REDIS_URL: str = env.str("REDIS_URL", default="")
# The async client shared by the page cache and the chat (redis_async.py).
REDIS_ASYNC_MAX_CONNECTIONS: int = env.int("REDIS_ASYNC_MAX_CONNECTIONS", default=16)
# Both pools close their connections after this long without use
# (redis_pools.py); 0 keeps them open for the life of the process.
REDIS_IDLE_CLOSE_SECONDS: float = env.float("REDIS_IDLE_CLOSE_SECONDS", default=30.0)

if REDIS_URL:
    CACHES = {
        "default": {
            # Misses instead of errors while Redis is down (cache.py), and one
            # connection pool per process, not per request (redis_cache.py).
            "BACKEND": "blog_site.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bdg",
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                # A blocking pool keeps the process at a fixed number of
                # connections however many threads call at once (the HTTP
                # pool, Channels' worker; a cache call holds one for well
                # under a millisecond).
                "pool_class": "blog_site.redis_pools.IdleClosingBlockingConnectionPool",
                "max_connections": env.int("REDIS_CACHE_MAX_CONNECTIONS", default=8),
                "timeout": 1,
                "idle_close_seconds": REDIS_IDLE_CLOSE_SECONDS,
            },
        }
    }
    # CHANNEL_LAYERS with Redis: see the talk block below.
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Media: S3 (MinIO) or the local filesystem -----------------------------

S3_ENDPOINT_URL: str = env.str("S3_ENDPOINT_URL", default="")
S3_PUBLIC_ENDPOINT_URL: str = env.str("S3_PUBLIC_ENDPOINT_URL", default=S3_ENDPOINT_URL)
S3_BUCKET: str = env.str("S3_BUCKET", default="bdg-blog")
S3_REGION: str = env.str("S3_REGION", default="us-east-1")
S3_PRESIGN_SECONDS: int = env.int("S3_PRESIGN_SECONDS", default=300)
# An unreachable or hung S3 fails an upload after at most
# S3_MAX_ATTEMPTS * (S3_CONNECT_TIMEOUT + S3_READ_TIMEOUT) seconds per call.
S3_CONNECT_TIMEOUT: float = env.float("S3_CONNECT_TIMEOUT", default=3.0)
S3_READ_TIMEOUT: float = env.float("S3_READ_TIMEOUT", default=10.0)
S3_MAX_ATTEMPTS: int = env.int("S3_MAX_ATTEMPTS", default=2)

MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

if S3_ENDPOINT_URL:
    _s3_options = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL,
        "access_key": env.str("S3_ACCESS_KEY"),
        "secret_key": env.str("S3_SECRET_KEY"),
        "region_name": S3_REGION,
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": S3_PRESIGN_SECONDS,
    }
    STORAGES_DEFAULT = {
        "BACKEND": "media_store.storage.S3MediaStorage",
        "OPTIONS": _s3_options,
    }
else:
    STORAGES_DEFAULT = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }

STORAGES = {
    "default": STORAGES_DEFAULT,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

S3_PUBLIC_HOST = (
    urlsplit(S3_PUBLIC_ENDPOINT_URL).netloc if S3_PUBLIC_ENDPOINT_URL else ""
)

# --- Static files -----------------------------------------------------------

STATIC_URL = "/static/"
# STATIC_ROOT from the environment so a test can collect into a temporary
# folder. static/css is compiled from static/scss by scripts/build_css.sh
# (setup and the Dockerfile); collectstatic then hashes and compresses it
# (gzip and brotli) and whitenoise serves it with a year's cache lifetime.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0

# --- Internationalisation --------------------------------------------------

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE: str = env.str("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Auth -------------------------------------------------------------------

_PW = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_PW}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_PW}.MinimumLengthValidator"},
    {"NAME": f"{_PW}.CommonPasswordValidator"},
    {"NAME": f"{_PW}.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Security ---------------------------------------------------------------

# Behind Traefik, TLS ends at the proxy; it sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Health checks ----------------------------------------------------------

READINESS_TIMEOUT_SECONDS: float = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

# --- hardening ---
# The cross-cutting security layer (see SECURITY.md): one Content-Security-
# Policy for every response, the other browser headers, login lockout and
# the trusted-proxy rule behind every per-client limit (blog_site/net.py).

import ipaddress  # noqa: E402
from datetime import timedelta  # noqa: E402

from csp.constants import NONCE, NONE, SELF  # noqa: E402

INSTALLED_APPS += ["csp", "axes"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1,
    "django_permissions_policy.PermissionsPolicyMiddleware",
)
# Last, as django-axes asks: it turns a lockout flagged by the backend into
# the 429 response on the way out.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# Addresses (CIDRs) of the reverse proxies whose X-Forwarded-For is believed,
# e.g. the k3s pod network Traefik runs in ("10.42.0.0/16"). Empty means the
# socket peer is the client. daphne must run without --proxy-headers.
TRUSTED_PROXIES: list[str] = env.list("TRUSTED_PROXIES", default=[])
for _cidr in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_cidr.strip(), strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_exc}") from _exc


def _origin(url: str, scheme: str | None = None) -> str:
    parts = urlsplit(url)
    return f"{scheme or parts.scheme}://{parts.netloc}"


# The chat's WebSocket origin; 'self' covers it in CSP3 browsers, the explicit
# ws(s) origin covers the older ones.
_WS_ORIGIN = _origin(SITE_URL, "wss" if SITE_URL.startswith("https") else "ws")
# Image redirects (/images/<uuid>) send the browser to presigned URLs on the
# public S3 endpoint, and img-src is checked after redirects.
_MEDIA_ORIGINS = [_origin(S3_PUBLIC_ENDPOINT_URL)] if S3_PUBLIC_ENDPOINT_URL else []

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # No 'unsafe-inline': scripts come from static files, or carry the
        # per-response nonce (`<script nonce="{{ request.csp_nonce }}">`).
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, *_MEDIA_ORIGINS],
        "media-src": [SELF, *_MEDIA_ORIGINS],
        "font-src": [SELF],
        # The S3 endpoint too: the editor uploads straight to the bucket.
        "connect-src": [SELF, _WS_ORIGIN, *_MEDIA_ORIGINS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "frame-src": [NONE],
        "worker-src": [SELF],
        "manifest-src": [SELF],
    },
}

PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The CSRF cookie stays readable by the site's own scripts (the editor's
# upload script falls back to it): its value is no secret from same-origin
# code, and Django documents HttpOnly on it as of no practical benefit. The
# session cookie, which is the secret, is HttpOnly.
CSRF_COOKIE_HTTPONLY = False
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Login lockout (django-axes): AXES_FAILURE_LIMIT failed logins for one
# username from one client address lock that pair for AXES_COOLOFF_MINUTES.
# Failures are counted in the database, so a Redis outage cannot reset them.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT: int = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES: int = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "blog_site.net.client_ip"
AXES_LOCKOUT_CALLABLE = "blog_site.login_limits.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Failed passwords are never written to the attempt log.
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password"]

# Rotating SECRET_KEY: put the old key here for one session lifetime, so
# sessions and signed links made with it stay valid while new ones use the
# new key (docs/operations.md).
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])
# --- page cache ---------------------------------------------------------------

PAGE_CACHE_ENABLED: bool = env.bool("PAGE_CACHE_ENABLED", default=True)
PAGE_CACHE_SECONDS: int = env.int("PAGE_CACHE_SECONDS", default=300)
PAGE_CACHE_MAX_ENTRIES: int = env.int("PAGE_CACHE_MAX_ENTRIES", default=1000)
PAGE_CACHE_VERSION_TTL: float = env.float("PAGE_CACHE_VERSION_TTL", default=0.25)
# Past the TTL, the last version keeps serving for this long while it is read
# again in the background (TTL + this bounds how late a replica sees a write).
PAGE_CACHE_VERSION_STALE: float = env.float("PAGE_CACHE_VERSION_STALE", default=0.5)

# --- api ----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "blog_site.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "blog_site.throttling.AnonRateThrottle",
        "blog_site.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "login": env.str("API_THROTTLE_LOGIN", default="10/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "blog_site.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "bdg-blog API",
    "DESCRIPTION": "Posts, categories and images of a bdg-blog site.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- media_store ---

# Uploads larger than this are refused before decoding (bytes).
MEDIA_MAX_UPLOAD_BYTES: int = env.int(
    "MEDIA_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024
)
# Decompression-bomb guard: width × height above this is refused unread.
MEDIA_MAX_PIXELS: int = env.int("MEDIA_MAX_PIXELS", default=60_000_000)
# Rendition widths served as /images/<uuid>?w=<width> and used in srcset.
MEDIA_RENDITION_WIDTHS: list[int] = [
    int(w) for w in env.list("MEDIA_RENDITION_WIDTHS", default=["480", "960", "1600"])
]
# Direct browser-to-bucket uploads: how long the presigned POST is valid and
# how long an unconfirmed object may live before cleanup removes it.
MEDIA_DIRECT_UPLOAD_SECONDS: int = env.int("MEDIA_DIRECT_UPLOAD_SECONDS", default=600)
# How long a process trusts "this image is (not) public" between post writes
# (writes invalidate it at once; this bounds a scheduled post's going live).
MEDIA_VISIBILITY_CACHE_SECONDS: int = env.int(
    "MEDIA_VISIBILITY_CACHE_SECONDS", default=60
)
MEDIA_UNCONFIRMED_GRACE_SECONDS: int = env.int(
    "MEDIA_UNCONFIRMED_GRACE_SECONDS", default=24 * 3600
)

# --- posts ---

TEMPLATES[0]["OPTIONS"]["context_processors"].append("posts.context_processors.nav")
# Anonymous public pages are kept this long in the cache backend; any change to
# a post or category invalidates them at once (posts/cache.py). 0 disables.
POSTS_PAGE_CACHE_SECONDS: int = env.int("POSTS_PAGE_CACHE_SECONDS", default=300)
POSTS_PER_PAGE: int = env.int("POSTS_PER_PAGE", default=10)
TAGGIT_CASE_INSENSITIVE = True

# --- talk ---

TALK_DEFAULT_ROOM: str = "lobby"
TALK_HISTORY_SIZE: int = env.int("TALK_HISTORY_SIZE", default=50)
TALK_RESUME_LIMIT: int = env.int("TALK_RESUME_LIMIT", default=500)
TALK_MAX_MESSAGE_LENGTH: int = env.int("TALK_MAX_MESSAGE_LENGTH", default=1000)
# A frame may carry the longest message JSON-escaped (up to 6 bytes a
# character for control characters, 4 for emoji); anything bigger is refused
# before it is parsed.
TALK_MAX_FRAME_BYTES: int = env.int(
    "TALK_MAX_FRAME_BYTES", default=max(8192, TALK_MAX_MESSAGE_LENGTH * 6 + 256)
)
TALK_NAME_MAX_LENGTH: int = env.int("TALK_NAME_MAX_LENGTH", default=16)
# Per connection and per client IP; 0 turns a limit off (a load test from one
# address needs the IP limit off). The IP limit is looser because several
# people can share one address behind NAT.
TALK_RATE_LIMIT_MESSAGES: int = env.int("TALK_RATE_LIMIT_MESSAGES", default=5)
TALK_RATE_LIMIT_SECONDS: int = env.int("TALK_RATE_LIMIT_SECONDS", default=5)
TALK_RATE_LIMIT_IP_MESSAGES: int = env.int("TALK_RATE_LIMIT_IP_MESSAGES", default=15)
TALK_RETENTION_DAYS: int = env.int("TALK_RETENTION_DAYS", default=30)
TALK_BLOCK_DAYS: int = env.int("TALK_BLOCK_DAYS", default=7)
# Each connection refreshes its presence entry this often; an entry that is
# not refreshed within the TTL (a replica that died) stops counting.
TALK_PRESENCE_HEARTBEAT_SECONDS: float = env.float(
    "TALK_PRESENCE_HEARTBEAT_SECONDS", default=10.0
)
TALK_PRESENCE_TTL_SECONDS: float = env.float(
    "TALK_PRESENCE_TTL_SECONDS", default=TALK_PRESENCE_HEARTBEAT_SECONDS * 3
)
# Slow consumers (issue 10 item 14): daphne buffers whatever a client does not
# read in memory without limit, so clients acknowledge the frames they have
# received (`ack`) and a connection more than this many frames or bytes
# behind is closed with 4408 (the client reconnects and resumes). 0 disables
# a limit. Clients are asked to ack every TALK_ACK_EVERY frames. A `resume`
# answers with up to TALK_RESUME_LIMIT frames at once, before the client can
# ack any: keep TALK_MAX_UNACKED above it.
TALK_MAX_UNACKED: int = env.int("TALK_MAX_UNACKED", default=1000)
TALK_MAX_UNACKED_BYTES: int = env.int("TALK_MAX_UNACKED_BYTES", default=1024 * 1024)
TALK_ACK_EVERY: int = env.int("TALK_ACK_EVERY", default=32)
# Over two replicas a room's messages can reach a connection out of sequence
# order; a later one is held this long for the missing one before the gap is
# filled from the database (a query per connection otherwise: issue 8).
TALK_REORDER_WINDOW_MS: int = env.int("TALK_REORDER_WINDOW_MS", default=50)

if REDIS_URL:
    # The pub/sub layer instead of channels_redis.core: a group_send is one
    # PUBLISH that every subscribed replica receives at once, with no
    # per-channel lists to poll or expire (issue 8 measured p50 95 ms vs 664 ms
    # at 10,000 deliveries/s). Pub/sub does not store anything, so a replica
    # that is resubscribing after a Redis restart can miss a message: the
    # database is the record, and every consumer fills gaps in the per-room
    # sequence from it (talk/consumers.py), so delivery does not depend on
    # the layer. The layer has no capacity/expiry to tune: messages go
    # straight into the receiving consumer's in-process queue.
    # Pub/sub channels are global to a Redis server, not per database, so the
    # prefix carries the database number to keep separate sites (and test
    # runs) on one server apart.
    _redis_db = (urlsplit(REDIS_URL).path.lstrip("/") or "0").split("/")[0]
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                "prefix": env.str(
                    "CHANNEL_LAYER_PREFIX", default=f"bdg:{_redis_db}:channels"
                ),
            },
        }
    }

# --- Graceful shutdown (blog_site/serve.py) ------------------------------------
# After SIGTERM, how long in-flight requests get to finish before the process
# stops anyway. Keep it below the pod's terminationGracePeriodSeconds minus the
# preStop sleep (k8s/base/web.yaml: 30 - 5), or the kubelet's SIGKILL wins.
SHUTDOWN_GRACE_SECONDS: float = env.float("SHUTDOWN_GRACE_SECONDS", default=20.0)
