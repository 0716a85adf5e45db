"""Deployment checks for the media store (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def media_host_is_not_the_site(**kwargs: Any) -> list[CheckMessage]:
    """Uploads must come from a host of their own: on the site's host, a file
    that slipped past validation would run with the site's origin."""
    public = urlsplit(settings.S3_PUBLIC_ENDPOINT_URL).hostname
    if not settings.S3_ENDPOINT_URL or not public:
        return []
    site_hosts = {urlsplit(settings.SITE_URL).hostname} | {
        host for host in settings.ALLOWED_HOSTS if not host.startswith(".")
    }
    if public in site_hosts:
        return [
            Warning(
                f"S3_PUBLIC_ENDPOINT_URL uses the site's own host ({public}).",
                hint="Serve uploaded media from a host name of its own, "
                "e.g. s3.example.org (see k8s/README.md).",
                id="media_store.W001",
            )
        ]
    return []
