"""Where an image is used, without media_store importing the apps that use it.

Apps that reference images register a *usage finder* in their
`AppConfig.ready()`::

    from media_store.usage import Usage, register_usage_finder

    def post_usages(image):
        for post in Post.objects.filter(
            Q(thumbnail=image) | Q(body__contains=f"/images/{image.pk}")
        ):
            yield Usage(label=f"Post “{post.title}”", url=post.get_absolute_url())

    register_usage_finder(post_usages)

`image_delete` refuses to delete an image that any finder reports, and the
admin lists the usages on the image's page. A finder must be cheap (one
query) and must not raise for an image it knows nothing about.
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
