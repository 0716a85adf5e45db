"""Forged requests: POSTs without a CSRF token, and WebSocket handshakes from
a foreign or missing Origin, are refused. Targets are found by the crawler,
so every new form is covered without being listed here."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from tests.security import crawl

pytestmark = pytest.mark.django_db(transaction=True)

# POST endpoints that take no ambient credentials by design, with the reason.
CSRF_EXEMPT: dict[str, str] = {
    "/api/v1/auth/token/": (
        "trades a username and password from the body for a token; no cookie "
        "is involved, and a cross-site page cannot read the answer. Failures "
        "are counted by blog_site.login_limits."
    ),
}


def _forging_client(user: Any = None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def _targets(staff_user: Any) -> list[str]:
    urls = crawl.parameterless_urls() + crawl.seed_samples(staff=staff_user)
    return [url for url in dict.fromkeys(urls) if not url.startswith("/no-such-page-")]


def _accepted(response: Any) -> bool:
    return response.status_code < 400


def test_forged_posts_to_every_url_are_refused(staff_user: Any) -> None:
    targets = _targets(staff_user)
    accepted, not_refused = [], []
    sent = 0
    for identity, user in (("anonymous", None), ("staff", staff_user)):
        client = _forging_client(user)
        for url in targets:
            if url in CSRF_EXEMPT:
                continue
            if url.startswith("/api/") and user is None:
                continue  # no ambient credentials, so nothing to forge
            response = client.post(url, {"username": "x", "password": "y"}, secure=True)
            sent += 1
            if _accepted(response):
                accepted.append((identity, url, response.status_code))
            elif response.status_code != 403:
                not_refused.append((identity, url, response.status_code))
    print(
        f"forged POSTs sent: {sent}, accepted forged requests: {len(accepted)}, "
        f"answered other than 403: {len(not_refused)}"
    )
    assert not accepted
    assert not not_refused  # the CSRF check, not the view, turned them away
    assert sent >= 40


def test_a_forged_admin_change_form_changes_nothing(staff_user: Any) -> None:
    User = get_user_model()
    victim = User.objects.create_user(
        username="victim", email="victim@example.org", password="v" * 20
    )
    client = _forging_client(staff_user)
    change = client.post(
        f"/admin/accounts/user/{victim.pk}/change/",
        {"username": "victim", "email": "attacker@example.org", "is_superuser": "on"},
        secure=True,
    )
    add = client.post(
        "/admin/accounts/user/add/",
        {"username": "planted", "password1": "p" * 20, "password2": "p" * 20},
        secure=True,
    )
    assert change.status_code == add.status_code == 403
    victim.refresh_from_db()
    assert victim.email == "victim@example.org" and not victim.is_superuser
    assert not User.objects.filter(username="planted").exists()


def test_a_forged_admin_login_does_not_sign_in(staff_user: Any) -> None:
    client = _forging_client()
    response = client.post(
        "/admin/login/",
        {"username": staff_user.username, "password": "crawl-pass-0123456789"},
        secure=True,
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_real_token_from_a_foreign_origin_is_refused(staff_user: Any) -> None:
    """Over HTTPS Django also checks the Origin: a stolen token is not enough."""
    client = _forging_client(staff_user)
    client.get("/admin/password_change/", secure=True)
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/admin/password_change/",
        {
            "csrfmiddlewaretoken": token,
            "old_password": "crawl-pass-0123456789",
            "new_password1": "n" * 20,
            "new_password2": "n" * 20,
        },
        secure=True,
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    staff_user.refresh_from_db()
    assert staff_user.check_password("crawl-pass-0123456789")
    # The same request from the site itself goes through: the check is real.
    same_site = client.post(
        "/admin/password_change/",
        {
            "csrfmiddlewaretoken": token,
            "old_password": "crawl-pass-0123456789",
            "new_password1": "Another-long-pass-42",
            "new_password2": "Another-long-pass-42",
        },
        secure=True,
        HTTP_ORIGIN="https://testserver",
    )
    assert same_site.status_code == 302


def _websocket_paths() -> list[str]:
    import talk.routing

    paths = []
    for pattern in talk.routing.websocket_urlpatterns:
        text = str(pattern.pattern).lstrip("^").rstrip("$")
        paths.append("/" + text.replace("<slug:slug>", "lobby").replace("<str:", "x"))
    return paths or ["/ws/talk/lobby/"]


async def _handshake(app: Any, path: str, origin: bytes | None) -> bool:
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(app, path, headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=5)
    except ValueError:  # no such route: got past the origin check
        return True
    await communicator.disconnect()
    return connected


def _handshake_in_thread(app: Any, path: str, origin: bytes | None) -> bool:
    # Its own thread and loop: a browser test earlier in the session may
    # leave Playwright's loop attached to this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _handshake(app, path, origin)).result()


def test_websocket_handshakes_from_a_foreign_or_missing_origin_are_refused() -> None:
    from blog_site.asgi import application

    accepted = []
    tried = 0
    for path in _websocket_paths():
        for origin in (b"https://evil.example", b"null", None):
            tried += 1
            if _handshake_in_thread(application, path, origin):
                accepted.append((path, origin))
    print(f"forged WebSocket handshakes: {tried}, accepted: {len(accepted)}")
    assert not accepted
    # Control: the site's own origin gets past the check (to the router).
    assert _handshake_in_thread(application, "/ws/no-route/", b"http://testserver")


def test_the_origin_check_lets_the_site_itself_in() -> None:
    """Control: the same validator accepts the site's own origin."""
    from channels.generic.websocket import WebsocketConsumer
    from channels.security.websocket import AllowedHostsOriginValidator

    app = AllowedHostsOriginValidator(WebsocketConsumer.as_asgi())
    assert _handshake_in_thread(app, "/ws/", b"https://testserver")
    assert not _handshake_in_thread(app, "/ws/", b"https://evil.example")
