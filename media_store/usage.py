"""Where an image is used, without media_store importing the apps that use it.

Apps that reference images register a *usage finder* in their
`AppConfig.ready()`::

    from media_store.usage import Usage, register_usage_finder

    def post_usages(image):
        for post in Post.objects.filter(
            Q(thumbnail=image) | Q(body__contains=f"/images/{image.pk}")
        ):
            yield Usage(
                label=f"Post “{post.title}”",
                url=post.get_absolute_url(),
                public=post.is_public,
            )

    register_usage_finder(post_usages)

`image_delete` refuses to delete an image that any finder reports, and the
admin lists the usages on the image's page. A finder must be cheap (one
query) and must not raise for an image it knows nothing about.

`image_is_public` asks the same finders whether any usage is public (a
published post): only then may a visitor fetch the image. An app whose
usages turn public or private must bump the page cache's content version
(`blog_site.page_cache.content_version_bump`), which media_store's cached
answer is keyed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from media_store.models import Image


@dataclass(frozen=True)
class Usage:
    """One place that shows the image: a label for people and a link to it."""

    label: str
    url: str = ""
    # Shown to visitors (a published post), not only to its editors (a draft).
    public: bool = False


UsageFinder = Callable[["Image"], Iterable[Usage]]

_finders: list[UsageFinder] = []


def register_usage_finder(finder: UsageFinder) -> UsageFinder:
    """Add `finder` once (ready() may run twice in tests); usable as a decorator."""
    if finder not in _finders:
        _finders.append(finder)
    return finder


def unregister_usage_finder(finder: UsageFinder) -> None:
    if finder in _finders:
        _finders.remove(finder)


def find_usages(image: Image) -> list[Usage]:
    return [usage for finder in list(_finders) for usage in finder(image)]


def image_is_public(image: Image) -> bool:
    """Whether any usage shows the image to visitors (uncached: see selectors)."""
    return any(usage.public for finder in list(_finders) for usage in finder(image))
