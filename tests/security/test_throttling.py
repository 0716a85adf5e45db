"""API throttles: 429 with Retry-After, keyed on the client address from the
trusted-proxy rule, so a forged X-Forwarded-For neither evades nor frames."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from blog_site.throttling import AnonRateThrottle, ScopedRateThrottle

LIMIT = 3


class Anon(AnonRateThrottle):
    rate = f"{LIMIT}/hour"
    scope = "test-anon"


class Ping(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [Anon]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    # The throttle history lives in the real cache (Redis).
    cache.clear()
    yield
    cache.clear()


def _get(peer: str, forwarded: str | None = None) -> Any:
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Ping.as_view()(APIRequestFactory().get("/api/ping", **extra))


@override_settings(TRUSTED_PROXIES=[])
def test_the_limit_answers_429_with_retry_after_even_with_forged_addresses() -> None:
    statuses = [_get("198.51.100.4", f"203.0.113.{n}").status_code for n in range(5)]
    assert statuses == [200] * LIMIT + [429, 429]
    throttled = _get("198.51.100.4", "192.0.2.77")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 3600
    # Another client is not punished for the first one's requests.
    assert _get("198.51.100.5").status_code == 200


@override_settings(TRUSTED_PROXIES=["10.42.0.0/16"])
def test_behind_the_proxy_each_real_client_has_its_own_bucket() -> None:
    """Everyone arrives from Traefik's address; the header tells them apart."""
    proxy = "10.42.0.9"
    for n in range(LIMIT):
        assert _get(proxy, f"1.1.1.{n}, 203.0.113.7").status_code == 200
    assert _get(proxy, "9.9.9.9, 203.0.113.7").status_code == 429
    assert _get(proxy, "203.0.113.8").status_code == 200


def test_scoped_throttles_use_the_same_rule() -> None:
    class Scoped(ScopedRateThrottle):
        THROTTLE_RATES = {"login": "1/hour"}

    class Login(Ping):
        throttle_classes = [Scoped]
        throttle_scope = "login"

    view = Login.as_view()
    factory = APIRequestFactory()
    first = view(factory.get("/", REMOTE_ADDR="198.51.100.4"))
    second = view(
        factory.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.2.3.4")
    )
    assert (first.status_code, second.status_code) == (200, 429)
