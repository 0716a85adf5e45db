"""Site-wide shell views: the web app manifest, /favicon.ico and the CSRF cookie.

Interfaces only: no state, nothing per visitor in what the page cache stores.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

ICON_SIZES = (192, 512)


@require_GET
@cache_control(max_age=3600, public=True)
def web_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, named after SITE_NAME, in the visitor's language."""
    icons = [
        {
            "src": static(f"icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable" if size == 512 else "any",
        }
        for size in ICON_SIZES
    ]
    icons.append(
        {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"}
    )
    manifest = {
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME,
        "description": _("A personal technical blog"),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": icons,
    }
    response = JsonResponse(manifest, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own; send them to the hashed file."""
    response = redirect(static("icons/favicon.ico"), permanent=True)
    return response


@require_GET
@ensure_csrf_cookie
def csrf_cookie(request: HttpRequest) -> HttpResponse:
    """Set the CSRF cookie for forms on cached pages (the language switcher).

    Cached public pages cannot carry a per-visitor token, so their scripts
    read the cookie, asking here first when the visitor has none yet.
    """
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response
