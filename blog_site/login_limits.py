"""Login lockout shared by every way to sign in (admin, API token, future forms).

django-axes does the counting: `AxesStandaloneBackend` refuses a locked
username+client pair and its signal handler records each failure in the
database. Admin login needs nothing more than the settings. Any other login
endpoint calls `login_authenticate()` instead of `authenticate()` and maps
`LoginLockedOut` to its own response, for example in a DRF token view::

    from blog_site.login_limits import LoginLockedOut, login_authenticate

    try:
        user = login_authenticate(request, username=name, password=password)
    except LoginLockedOut as locked:
        return Response(
            {"detail": str(locked)},
            status=429,
            headers={"Retry-After": str(locked.retry_after)},
        )
    if user is None:
        raise AuthenticationFailed(...)

The client address comes from `blog_site.net.client_ip`, so the count
cannot be reset with a forged `X-Forwarded-For`.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LoginLockedOut(Exception):
    """Too many failed logins for this username from this client address."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            _("Too many failed login attempts. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, round(retry_after / 60))}
        )


def _http_request(request: Any) -> HttpRequest:
    # DRF wraps the Django request; axes marks the lockout on the inner one,
    # which is also the one the middleware sees.
    return getattr(request, "_request", request)


def retry_after_seconds(request: HttpRequest | None = None) -> int:
    """How long a locked-out client waits: the configured cool-off."""
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def login_authenticate(
    request: Any, *, username: str, password: str, **credentials: Any
) -> AbstractBaseUser | None:
    """authenticate() that counts the failure and raises LoginLockedOut when locked.

    A locked pair is refused before the password is even checked, so a
    correct guess during the lockout is worth nothing.
    """
    http_request = _http_request(request)
    user = authenticate(
        request=http_request, username=username, password=password, **credentials
    )
    if getattr(http_request, "axes_locked_out", False):
        raise LoginLockedOut(retry_after=retry_after_seconds(http_request))
    return user


def is_locked_out(request: Any, *, username: str) -> bool:
    """Whether this username is locked for this request's client address."""
    return AxesProxyHandler.is_locked(
        _http_request(request), credentials={"username": username}
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with Retry-After, JSON for API clients."""
    retry_after = retry_after_seconds(request)
    status = settings.AXES_HTTP_RESPONSE_CODE
    wants_json = request.path.startswith("/api/") or "application/json" in (
        request.headers.get("Accept", "")
    )
    if wants_json:
        response: HttpResponse = JsonResponse(
            {"detail": str(LoginLockedOut(retry_after)), "retry_after": retry_after},
            status=status,
        )
    else:
        response = render(
            request,
            "security/lockout.html",
            {
                "failure_limit": get_failure_limit(request, credentials),
                "minutes": max(1, round(retry_after / 60)),
            },
            status=status,
        )
    response["Retry-After"] = str(retry_after)
    return response
