"""Everything under /api/: the versioned API, its schema and its docs."""

from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

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


class NotFoundApi(APIView):
    """Unknown API paths (or path values no converter accepts) answer JSON.

    A DRF view rather than a plain one: a forged cookie-authenticated POST
    still meets DRF's CSRF check (403), a token client just gets the 404.
    """

    permission_classes = [AllowAny]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()


urlpatterns = [
    path("v1/", include(v1)),
    re_path(r"^v1/(?P<rest>.*)$", NotFoundApi.as_view(), name="not_found"),
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
