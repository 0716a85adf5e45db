"""DRF throttles keyed on the real client address (`blog_site.net.client_ip`).

DRF's own throttles key anonymous clients on `REMOTE_ADDR` or, with
`NUM_PROXIES`, on a position in `X-Forwarded-For`. Behind Traefik with
daphne run without `--proxy-headers`, `REMOTE_ADDR` is the proxy, so every
visitor would share one bucket; counting positions breaks as soon as the
proxy chain changes. These subclasses use the one trusted-proxy rule
instead. Use them in `REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]` and in
views' `throttle_classes`. A throttled request gets 429 with `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import throttling

from blog_site.net import client_ip


class ClientIPMixin:
    """Replace DRF's address guess with the trusted-proxy rule."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class AnonRateThrottle(ClientIPMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientIPMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientIPMixin, throttling.ScopedRateThrottle):
    pass
