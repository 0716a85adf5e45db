"""Unknown API paths answer JSON 404s, never the site's HTML error page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nothing-here/", "/api/v1/images/not-a-uuid/", "/api/v1/posts/a/b/c/"],
)
def test_unknown_api_paths_are_json_404s(url: str, editor) -> None:  # type: ignore[no-untyped-def]
    signed_in = APIClient()
    signed_in.force_authenticate(editor)
    for api in (APIClient(), signed_in):
        response = api.delete(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}
