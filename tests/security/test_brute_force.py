"""Login lockout: N failures lock a username for one client address, and a
forged X-Forwarded-For neither resets nor evades it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from blog_site.login_limits import LoginLockedOut, is_locked_out, login_authenticate

pytestmark = pytest.mark.django_db

PASSWORD = "crawl-pass-0123456789"


def _login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        **extra,
    )


def _fail(client: Client, username: str, times: int, **extra: Any) -> list[int]:
    return [
        _login(client, username, "wrong", **extra).status_code for _ in range(times)
    ]


def _signed_in(response: Any) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_login_locks_after_the_configured_failures(staff_user: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    statuses = _fail(client, staff_user.username, limit)
    # The first failures re-show the form; the last one is the lockout.
    assert statuses[:-1] == [200] * (limit - 1)
    assert statuses[-1] == 429
    locked = _login(client, staff_user.username, PASSWORD)
    print(f"failures before lockout: {limit}, then status {locked.status_code}")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_MINUTES * 60
    # The lockout page speaks the default UI language (Korean; msgid "Too many
    # login attempts").
    assert "로그인 시도가 너무 많습니다" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(TRUSTED_PROXIES=[])
def test_a_forged_forwarded_for_from_outside_does_not_evade_the_lockout(
    staff_user: Any,
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for attempt in range(limit):
        _login(
            client,
            staff_user.username,
            "wrong",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
            HTTP_USER_AGENT=f"agent-{attempt}",
        )
    forged = _login(
        client,
        staff_user.username,
        PASSWORD,
        HTTP_X_FORWARDED_FOR="198.51.100.200",
        HTTP_USER_AGENT="fresh-agent",
    )
    assert forged.status_code == 429
    assert not _signed_in(forged)


@override_settings(TRUSTED_PROXIES=["127.0.0.1/32"])
def test_behind_the_trusted_proxy_the_real_client_is_locked_and_others_are_not(
    staff_user: Any,
) -> None:
    """Traefik appends the real address; what the client prepended is ignored."""
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for attempt in range(limit):
        _login(
            client,
            staff_user.username,
            "wrong",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}, 203.0.113.7",
        )
    same_client = _login(
        client,
        staff_user.username,
        PASSWORD,
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7",
    )
    assert same_client.status_code == 429
    other_client = _login(
        Client(), staff_user.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9"
    )
    assert _signed_in(other_client)


def test_the_lock_is_per_username(staff_user: Any, django_user_model: Any) -> None:
    other = django_user_model.objects.create_superuser(
        username="second-admin", email="second@example.org", password=PASSWORD
    )
    client = Client()
    _fail(client, staff_user.username, settings.AXES_FAILURE_LIMIT)
    assert _signed_in(_login(Client(), other.username, PASSWORD))


def test_a_success_before_the_limit_resets_the_count(staff_user: Any) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    _fail(client, staff_user.username, limit - 1)
    assert _signed_in(_login(client, staff_user.username, PASSWORD))
    client.logout()
    assert _fail(client, staff_user.username, limit - 1) == [200] * (limit - 1)
    assert _signed_in(_login(client, staff_user.username, PASSWORD))


def test_the_lock_lifts_after_the_cool_off(staff_user: Any) -> None:
    from axes.models import AccessAttempt

    client = Client()
    _fail(client, staff_user.username, settings.AXES_FAILURE_LIMIT)
    assert _login(client, staff_user.username, PASSWORD).status_code == 429
    past = timezone.now() - timedelta(minutes=settings.AXES_COOLOFF_MINUTES + 1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _signed_in(_login(client, staff_user.username, PASSWORD))


def test_login_authenticate_is_the_lockout_for_other_login_endpoints(
    staff_user: Any,
) -> None:
    """What the API token endpoint calls instead of authenticate()."""
    from rest_framework.request import Request

    factory = RequestFactory()

    def request() -> Request:
        return Request(factory.post("/api/token/", REMOTE_ADDR="198.51.100.4"))

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            login_authenticate(
                request(), username=staff_user.username, password="wrong"
            )
            is None
        )
    with pytest.raises(LoginLockedOut) as locked:
        login_authenticate(request(), username=staff_user.username, password="wrong")
    assert locked.value.retry_after == settings.AXES_COOLOFF_MINUTES * 60
    assert is_locked_out(request(), username=staff_user.username)
    with pytest.raises(LoginLockedOut):
        login_authenticate(request(), username=staff_user.username, password=PASSWORD)
    # Another address is not affected.
    elsewhere = Request(factory.post("/api/token/", REMOTE_ADDR="198.51.100.5"))
    user = login_authenticate(
        elsewhere, username=staff_user.username, password=PASSWORD
    )
    assert user == staff_user


def test_api_clients_get_the_lockout_as_json(staff_user: Any) -> None:
    from blog_site.login_limits import lockout_response

    response = lockout_response(RequestFactory().post("/api/token/"))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(settings.AXES_COOLOFF_MINUTES * 60)


def test_the_runtime_image_runs_daphne_without_proxy_headers() -> None:
    """daphne's --proxy-headers believes the leftmost X-Forwarded-For entry,
    which the client writes; the app decides instead (blog_site.net)."""
    from tests.conftest import REPO_ROOT

    commands = re.findall(r"^CMD\s+(.+)$", (REPO_ROOT / "Dockerfile").read_text(), re.M)
    # blog_site.serve is daphne's CLI (with a graceful SIGTERM).
    assert commands and all("blog_site.serve" in cmd for cmd in commands)
    assert not any("--proxy-headers" in cmd for cmd in commands)


def _csrf(client: httpx.Client, base: str) -> tuple[str, str]:
    page = client.get(base + "/admin/login/")
    cookie = page.cookies.get("csrftoken") or re.search(
        r"csrftoken=([^;]+)", page.headers.get("set-cookie", "")
    ).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return cookie, token


def test_through_daphne_a_forged_forwarded_for_cannot_reset_the_lockout(
    live_daphne: Any, staff_user: Any
) -> None:
    """The server as production runs it: every attempt forges a new address."""
    limit = settings.AXES_FAILURE_LIMIT
    statuses = []
    with httpx.Client(timeout=20, follow_redirects=False) as client:
        cookie, token = _csrf(client, live_daphne.url)
        for attempt in range(limit + 2):
            password = PASSWORD if attempt == limit + 1 else "wrong"
            response = client.post(
                live_daphne.url + "/admin/login/?next=/admin/",
                data={
                    "username": staff_user.username,
                    "password": password,
                    "csrfmiddlewaretoken": token,
                },
                headers={
                    "Cookie": f"csrftoken={cookie}",
                    "X-Forwarded-For": f"203.0.113.{attempt}",
                    "X-Real-IP": f"203.0.113.{attempt}",
                },
            )
            statuses.append(response.status_code)
    print(f"daphne statuses with a new forged address each time: {statuses}")
    assert statuses == [200] * (limit - 1) + [429, 429, 429]


def test_the_api_token_endpoint_shares_the_lockout(staff_user: Any) -> None:
    """Failures at the admin and at the token endpoint add up; the API answers
    JSON 429 with Retry-After, even for the right password."""
    from django.core.cache import cache

    cache.clear()  # the API's own login throttle is not what is tested here
    url = "/api/v1/auth/token/"
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    _fail(client, staff_user.username, limit - 1)  # at the admin
    body = {"username": staff_user.username, "password": "wrong"}
    locked = client.post(url, body, content_type="application/json")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_MINUTES * 60
    right = {"username": staff_user.username, "password": PASSWORD}
    again = client.post(url, right, content_type="application/json")
    assert again.status_code == 429
    assert "token" not in again.json()
    cache.clear()
