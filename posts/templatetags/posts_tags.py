"""Template helpers for post pages: JSON-LD and absolute URLs."""

from __future__ import annotations

import json

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

from posts.models import Post

register = template.Library()

_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def absolute(path: str) -> str:
    """`/posts/…` -> `https://site/posts/…` using SITE_URL (canonical links)."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + path


@register.simple_tag
def post_jsonld(post: Post) -> SafeString:
    """A schema.org BlogPosting; a data block, never executed, so CSP allows it."""
    url = absolute(post.get_absolute_url())
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": post.published_at.isoformat() if post.published_at else None,
        "dateModified": post.updated_at.isoformat(),
        "author": {
            "@type": "Person",
            "name": post.author.public_name,
            "url": absolute(f"/authors/{post.author.username}/"),
        },
        "articleSection": post.category.name,
        "inLanguage": settings.LANGUAGE_CODE,
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
    }
    if post.thumbnail_id:
        data["image"] = absolute(post.thumbnail.get_absolute_url())
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html(
        '<script type="application/ld+json">{}</script>', SafeString(text)
    )
