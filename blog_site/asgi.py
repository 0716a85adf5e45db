"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blog_site.settings.base")

# Django must be set up before anything imports models (talk.routing does).
django.setup(set_prefix=False)

from blog_site.asgi_pool import PooledASGIHandler  # noqa: E402

# What get_asgi_application() returns, but on a pool of long-lived threads.
django_asgi_app = PooledASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

import talk.routing  # noqa: E402
from blog_site.page_cache import PageCacheMiddleware  # noqa: E402

# The page cache sits outside the protocol router, so a cached page is
# answered by the first callable daphne calls; it passes WebSockets through.
application = PageCacheMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(talk.routing.websocket_urlpatterns))
            ),
        }
    )
)
