"""Template tags for images: `{% load media %}{% responsive_image image %}`."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from media_store.models import Image

register = template.Library()


def srcset(image: Image, *, webp: bool, url: str | None = None) -> str:
    """`srcset` candidates: each rendition, then the original at its own width.

    `url` is the image's address if the caller has it already (a reverse()
    per call shows in the API list's profile)."""
    if url is None:
        url = image.get_absolute_url()
    suffix = "&fm=webp" if webp else ""
    candidates = [f"{url}?w={width}{suffix} {width}w" for width in image.renditions]
    candidates.append(f"{url} {image.width}w")
    return ", ".join(candidates)


@register.simple_tag
def responsive_image(
    image: Image | None, sizes: str = "100vw", css_class: str = "", eager: bool = False
) -> SafeString | str:
    """An <img> with intrinsic size (no layout shift) and lazy loading.

    With renditions it becomes a <picture>: WebP copies for browsers that
    take them, the original format's copies otherwise, chosen by `sizes`.
    """
    if image is None:
        return ""
    img = format_html(
        '<img src="{}"{} width="{}" height="{}" alt="{}" class="{}" '
        'loading="{}" decoding="async"{}>',
        image.get_absolute_url(),
        format_html(' srcset="{}" sizes="{}"', srcset(image, webp=False), sizes)
        if image.renditions
        else "",
        image.width,
        image.height,
        image.alt,
        css_class,
        "eager" if eager else "lazy",
        mark_safe(' fetchpriority="high"') if eager else "",  # noqa: S308
    )
    if not image.renditions:
        return img
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">{}</picture>',
        srcset(image, webp=True),
        sizes,
        img,
    )


@register.simple_tag
def preload_image(image: Image | None, sizes: str = "100vw") -> SafeString | str:
    """A `<link rel=preload>` for the image `responsive_image` will show with
    the same `sizes`: for the largest paint on a phone, so the request starts
    with the stylesheets instead of after them (and before the web fonts)."""
    if not isinstance(image, Image):  # no post, or a post without a thumbnail
        return ""
    if not image.renditions:
        return format_html(
            '<link rel="preload" as="image" href="{}" fetchpriority="high">',
            image.get_absolute_url(),
        )
    return format_html(
        '<link rel="preload" as="image" href="{}" imagesrcset="{}" '
        'imagesizes="{}" type="image/webp" fetchpriority="high">',
        image.get_absolute_url(),
        srcset(image, webp=True),
        sizes,
    )
