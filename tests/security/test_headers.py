"""Security headers on every URL the site serves, found by crawling it."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.security import crawl
from tests.security.headers import (
    cookie_problems,
    csp_problems,
    missing_headers,
    parse_csp,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def crawled(staff_user: Any, staff_client: Client) -> crawl.CrawlResult:
    start = crawl.parameterless_urls() + crawl.seed_samples(staff=staff_user)
    return crawl.crawl({"anonymous": Client(), "staff": staff_client}, start)


def test_every_crawled_response_carries_the_security_headers(
    crawled: crawl.CrawlResult,
) -> None:
    failures = {
        f"{visit.identity} {visit.url} [{visit.status}]": problems
        for visit in crawled.visits
        if (problems := missing_headers(visit.response, secure=True))
    }
    print(
        f"URLs crawled: {len(crawled.urls)} "
        f"({len(crawled.visits)} responses as anonymous and staff), "
        f"missing a header: {len(failures)}"
    )
    assert not failures, failures
    # The crawl really covered the kinds of page the issue names.
    statuses = {
        visit.url: visit.status
        for visit in crawled.visits
        if visit.identity == "anonymous"
    }
    assert statuses["/admin/login/"] == 200
    assert statuses["/healthz"] == 200
    assert any(url.startswith("/no-such-page-") for url in statuses)
    assert 404 in statuses.values()
    assert any(
        url.startswith("/images/") and status == 302 for url, status in statuses.items()
    )
    staff_statuses = [v.status for v in crawled.visits if v.identity == "staff"]
    assert staff_statuses.count(200) >= 15  # admin pages were seen signed in
    assert len(crawled.urls) >= 20


def test_every_route_without_an_exemption_was_crawled(
    crawled: crawl.CrawlResult,
) -> None:
    unreached = crawl.unreached_routes(crawled)
    print(f"routes not reached by the crawl: {len(unreached)}")
    assert not unreached, (
        "Add a sample in tests/<app>/crawl_samples.py (see tests/security/crawl.py) "
        f"or link these from a page: {unreached}"
    )


def test_the_policy_allows_the_image_host_and_the_chat_socket() -> None:
    response = Client().get("/healthz", secure=True)
    policy = parse_csp(response["Content-Security-Policy"])
    public = settings.S3_PUBLIC_ENDPOINT_URL.rstrip("/")
    assert public and public in policy["img-src"]
    assert "'self'" in policy["connect-src"]
    assert any(src.startswith(("ws://", "wss://")) for src in policy["connect-src"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_a_page_that_uses_the_nonce_gets_it_in_the_policy(rf: Any) -> None:
    """Templates may mark an inline script with request.csp_nonce; the header
    then names exactly that nonce, fresh for every response."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    nonces = []
    for _ in range(2):
        request = rf.get("/")

        def view(request: Any) -> HttpResponse:
            return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

        response = CSPMiddleware(view)(request)
        nonce = str(request.csp_nonce)
        assert (
            f"'nonce-{nonce}'"
            in parse_csp(response["Content-Security-Policy"])["script-src"]
        )
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_the_checker_itself_flags_a_weak_policy() -> None:
    """A check that cannot fail proves nothing: feed it bad headers."""
    assert csp_problems(None) == ["Content-Security-Policy"]
    weak = csp_problems("default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert any("unsafe-inline" in problem for problem in weak)
    assert "CSP object-src 'none'" in weak
    assert "CSP frame-ancestors" in weak


def test_hsts_is_a_year_with_subdomains_over_https() -> None:
    response = Client().get("/healthz", secure=True)
    value = response["Strict-Transport-Security"]
    assert "max-age=31536000" in value
    assert "includeSubDomains" in value


def test_signing_in_sets_only_secure_httponly_samesite_cookies(
    staff_user: Any,
) -> None:
    client = Client()
    login_page = client.get("/admin/login/", secure=True)
    assert not cookie_problems(login_page)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff_user.username, "password": "crawl-pass-0123456789"},
        secure=True,
    )
    assert response.status_code == 302, response.content[:500]
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"]
    assert not missing_headers(response, secure=True)
    # A saved admin form leaves its success message in the messages cookie.
    saved = client.post(
        "/admin/auth/group/add/", {"name": "crawl-cookie-check"}, secure=True
    )
    assert saved.status_code == 302
    assert "messages" in saved.cookies
    assert not missing_headers(saved, secure=True)
