"""Everything under /api/: the versioned API, its schema and its docs."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
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
]

urlpatterns = [
    path("v1/", include(v1)),
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
