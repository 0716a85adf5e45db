"""Template tags for images: `{% load media %}{% responsive_image image %}`."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from media_store.models import Image

register = template.Library()


@register.simple_tag
def responsive_image(
    image: Image | None, sizes: str = "100vw", css_class: str = "", eager: bool = False
) -> str:
    """An <img> with intrinsic size (no layout shift) and lazy loading."""
    if image is None:
        return ""
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" class="{}" '
        'loading="{}" decoding="async" sizes="{}">',
        image.get_absolute_url(),
        image.width,
        image.height,
        image.alt,
        css_class,
        "eager" if eager else "lazy",
        sizes,
    )
