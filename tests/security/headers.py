"""What every response must carry, as one function both crawls can share."""

from __future__ import annotations

from typing import Any

ONE_YEAR = 31536000


def parse_csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def csp_problems(header: str | None) -> list[str]:
    if not header:
        return ["Content-Security-Policy"]
    policy = parse_csp(header)
    problems = []
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None:
        problems.append("CSP script-src")
    elif {"'unsafe-inline'", "*", "data:", "http:", "https:"} & set(scripts):
        problems.append(f"CSP script-src too wide: {' '.join(scripts)}")
    if policy.get("object-src") != ["'none'"]:
        problems.append("CSP object-src 'none'")
    for directive in ("base-uri", "frame-ancestors", "form-action"):
        if directive not in policy:
            problems.append(f"CSP {directive}")
    return problems


def _hsts_problems(response: Any) -> list[str]:
    value = response.get("Strict-Transport-Security", "")
    for part in value.split(";"):
        name, _, number = part.strip().partition("=")
        if name.lower() == "max-age" and number.isdigit():
            return [] if int(number) >= ONE_YEAR else [f"HSTS max-age {number}"]
    return ["Strict-Transport-Security"]


def cookie_problems(response: Any) -> list[str]:
    from django.conf import settings

    problems = []
    for name, morsel in response.cookies.items():
        if morsel["max-age"] == 0 or not morsel.value:
            continue  # a deletion carries no secret
        flags = ["secure", "httponly"]
        if name == settings.CSRF_COOKIE_NAME:
            flags = ["secure"]  # read by the site's own scripts, by design
        for flag in flags:
            if not morsel[flag]:
                problems.append(f"cookie {name} without {flag}")
        if not morsel["samesite"]:
            problems.append(f"cookie {name} without samesite")
    return problems


def missing_headers(response: Any, *, secure: bool) -> list[str]:
    """Names of the protections this response lacks (empty when complete)."""
    problems = csp_problems(response.get("Content-Security-Policy"))
    if response.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append("X-Content-Type-Options")
    for header in (
        "Referrer-Policy",
        "Permissions-Policy",
        "Cross-Origin-Opener-Policy",
        "X-Frame-Options",
    ):
        if not response.get(header):
            problems.append(header)
    if secure:
        problems += _hsts_problems(response)
    return problems + cookie_problems(response)
