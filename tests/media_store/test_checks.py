"""check --deploy warns when uploads would be served from the site's own host."""

from __future__ import annotations

import pytest
from django.test import override_settings

from media_store.checks import media_host_is_not_the_site


@pytest.mark.parametrize(
    "endpoint,warned",
    [
        ("https://s3.example.org", False),
        ("https://blog.example.org", True),
        ("https://blog.example.org:9000", True),
    ],
)
def test_media_on_the_sites_own_host_is_a_deploy_warning(
    endpoint: str, warned: bool
) -> None:
    with override_settings(
        S3_PUBLIC_ENDPOINT_URL=endpoint,
        SITE_URL="https://blog.example.org",
        ALLOWED_HOSTS=["blog.example.org", ".example.org"],
    ):
        ids = [m.id for m in media_host_is_not_the_site()]
    assert ids == (["media_store.W001"] if warned else [])
