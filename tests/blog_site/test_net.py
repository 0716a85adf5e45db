"""The client address: the socket peer, unless a trusted proxy vouches."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from blog_site.net import client_ip, parse_ip, resolve_client_ip

PROXIES = ["10.42.0.0/16", "127.0.0.1/32"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:5555", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("unknown", None),
        ("", None),
        ("1.2.3.4.5", None),
        ("<script>", None),
    ],
)
def test_parse_ip_accepts_addresses_and_rejects_the_rest(value, expected) -> None:
    parsed = parse_ip(value)
    assert (str(parsed) if parsed else None) == expected


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert resolve_client_ip("198.51.100.4", ["203.0.113.7"]) == "198.51.100.4"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert resolve_client_ip("198.51.100.4", ["1.1.1.1"]) == "198.51.100.4"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.1.1.1"; Traefik (10.42.0.9) appended the real peer.
    assert resolve_client_ip("10.42.0.9", ["1.1.1.1, 203.0.113.7"]) == "203.0.113.7"
    # Two proxies in a row are both skipped.
    assert (
        resolve_client_ip("127.0.0.1", ["1.1.1.1, 203.0.113.7, 10.42.0.9"])
        == "203.0.113.7"
    )
    # Several headers are read as one list, in order.
    assert resolve_client_ip("10.42.0.9", ["1.1.1.1", "203.0.113.7"]) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_garbage_in_the_chain_stops_at_the_last_vouched_address() -> None:
    assert resolve_client_ip("10.42.0.9", ["evil, 10.42.0.7"]) == "10.42.0.7"
    assert resolve_client_ip("10.42.0.9", ["nonsense"]) == "10.42.0.9"
    assert resolve_client_ip("10.42.0.9", []) == "10.42.0.9"


def test_no_peer_means_no_address() -> None:
    assert resolve_client_ip(None, ["203.0.113.7"]) is None


@override_settings(TRUSTED_PROXIES=PROXIES)
def test_requests_and_asgi_scopes_give_the_same_answer() -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.42.0.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7"
    )
    scope = {
        "type": "websocket",
        "client": ["10.42.0.9", 51000],
        "headers": [(b"x-forwarded-for", b"1.1.1.1, 203.0.113.7")],
    }
    assert client_ip(request) == client_ip(scope) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=[])
def test_a_scope_from_an_untrusted_peer_ignores_the_header() -> None:
    scope = {
        "client": ["198.51.100.4", 51000],
        "headers": [(b"X-Forwarded-For", b"203.0.113.7")],
    }
    assert client_ip(scope) == "198.51.100.4"
    assert client_ip({"client": None, "headers": []}) is None


def test_drf_requests_are_unwrapped() -> None:
    from rest_framework.request import Request

    request = Request(RequestFactory().get("/", REMOTE_ADDR="198.51.100.4"))
    assert client_ip(request) == "198.51.100.4"


def test_a_bad_trusted_proxy_setting_refuses_to_start() -> None:
    import subprocess
    import sys

    from tests.blog_site.test_settings import PRODUCTION_ENV, _bare_env
    from tests.conftest import REPO_ROOT

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO_ROOT,
        env={**_bare_env(), **PRODUCTION_ENV, "TRUSTED_PROXIES": "10.42.0.0/99"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
