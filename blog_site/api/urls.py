"""Everything under /api/: the versioned API, its schema and its docs."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# The doc viewers set inline styles and data: icons from their own static
# bundles; only these two pages get that, and scripts stay strict (the split
# Swagger view loads its start-up script from a URL instead of inline).
_doc_viewer_policy = csp_replace(
    {
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "worker-src": [SELF, "blob:"],
    }
)

app_name = "api"

v1 = [
    path("", include("accounts.api.urls")),
    path("", include("posts.api.urls")),
    path("", include("media_store.api.urls")),
]


@csrf_exempt  # answers 404 whatever the method; there is nothing to forge
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Unknown API paths (or path values no converter accepts) answer JSON."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("v1/", include(v1)),
    re_path(r"^v1/(?P<rest>.*)$", not_found),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        _doc_viewer_policy(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path(
        "redoc/",
        _doc_viewer_policy(SpectacularRedocView.as_view(url_name="api:schema")),
        name="redoc",
    ),
]
