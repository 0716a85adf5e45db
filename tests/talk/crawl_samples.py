"""Chat room pages for the security crawls (see tests/security/crawl.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def samples(*, staff: Any) -> Iterable[str]:
    """The default room's page; nothing while talk has no room route."""
    slug = getattr(settings, "TALK_DEFAULT_ROOM", "lobby")
    try:
        return [reverse("talk:room", kwargs={"slug": slug})]
    except NoReverseMatch:
        return []
