"""Views for the page cache tests: they count how often Django is entered."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from blog_site.page_cache import cache_until, public_page

CALLS: dict[str, int] = {}


def _count(name: str) -> int:
    CALLS[name] = CALLS.get(name, 0) + 1
    return CALLS[name]


@public_page
def shared(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"shared {_count('shared')}")


def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"private {_count('private')}")


@public_page
def sets_cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(f"cookie {_count('cookie')}")
    response.set_cookie("seen", "1")
    return response


@public_page
def expired(request: HttpRequest) -> HttpResponse:
    return cache_until(HttpResponse(f"expired {_count('expired')}"), 1.0)


# Set by a test to make `flaky` stop marking its page as shareable.
FLAKY_SHARED = {"value": True}


def flaky(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(f"flaky {_count('flaky')}")
    if FLAKY_SHARED["value"]:
        response[public_page_marker()] = "1"
    return response


def public_page_marker() -> str:
    from blog_site.page_cache import MARKER_HEADER

    return MARKER_HEADER.decode()


@public_page
def varies(request: HttpRequest) -> HttpResponse:
    count = _count("varies")
    response = HttpResponse(f"{request.headers.get('X-Shape', '')} {count}")
    response["Vary"] = "Cookie, X-Shape"
    return response


@public_page
def varies_always(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(f"any {_count('any')}")
    response["Vary"] = "*"
    return response


urlpatterns = [
    path("varies", varies),
    path("varies-always", varies_always),
    path("flaky", flaky),
    path("shared", shared),
    path("private", private),
    path("cookie", sets_cookie),
    path("expired", expired),
]
