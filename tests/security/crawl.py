"""Find every URL the site serves, so security checks cover new apps unasked.

Three sources, merged:

1. The URL resolver: every route without parameters, reversed by name
   (public pages, admin index/changelists/add forms, API list endpoints).
2. Samples for routes with parameters: the project's demo content
   (`manage.py load_demo`), the admin's per-object pages for one object of
   every registered model, `/images/<uuid>`, and whatever each app adds in
   `tests/<app>/crawl_samples.py`, a module with::

       def samples(*, staff: User) -> Iterable[str]:
           '''Create what the app's detail routes need; return their URLs.'''

3. Links: every same-origin `href`/`src` in the HTML of non-admin pages is
   followed (breadth first, bounded), the way a visitor would reach a post.

`unreached_routes()` then names any non-admin route that none of these
reached, so a new detail view without a sample or a link fails loudly
instead of silently escaping the checks.
"""

from __future__ import annotations

import importlib
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urlsplit

from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch, Resolver404

MAX_PAGES = 400
# Not pages: static files are served before the middleware that adds the
# page headers would matter, media is on the S3 host.
SKIP_PREFIXES = ("/static/", "/media/")
# Routes that a GET crawl cannot reach, each with the reason.
UNCRAWLABLE: dict[str, str] = {}


@dataclass(frozen=True)
class Route:
    view_name: str
    pattern: str
    has_params: bool


@dataclass
class Visit:
    url: str
    identity: str
    status: int
    response: Any


@dataclass
class CrawlResult:
    visits: list[Visit] = field(default_factory=list)

    @property
    def urls(self) -> set[str]:
        return {visit.url for visit in self.visits}

    def reached_view_names(self) -> set[str]:
        names = set()
        for url in self.urls:
            try:
                names.add(resolve(urlsplit(url).path).view_name)
            except Resolver404:
                continue
        return names


def _pattern_has_params(pattern: URLPattern | URLResolver) -> bool:
    regex = pattern.pattern.regex
    return regex.groups > 0


def iter_routes(
    patterns: Iterable[URLPattern | URLResolver] | None = None,
    *,
    namespace: str = "",
    prefix: str = "",
    parent_params: bool = False,
) -> Iterator[Route]:
    """Every route in the URLconf, with its namespaced name and whether it
    needs arguments."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        has_params = parent_params or _pattern_has_params(entry)
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from iter_routes(
                entry.url_patterns,
                namespace=ns,
                prefix=text,
                parent_params=has_params,
            )
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(view_name=name or text, pattern=text, has_params=has_params)


_REGEX_CHARS = set("^$()[]*+?\\|{}")


def parameterless_urls() -> list[str]:
    """A URL for every route that takes no arguments."""
    urls = []
    for route in iter_routes():
        if route.has_params:
            continue
        if route.view_name == route.pattern:  # unnamed: the route is the URL
            if not _REGEX_CHARS & set(route.pattern):
                urls.append("/" + route.pattern)
            continue
        try:
            urls.append(reverse(route.view_name))
        except NoReverseMatch:
            continue
    return sorted(set(urls))


def _png() -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def sample_image(*, staff: Any) -> Any:
    """An image stored in the real bucket, as an upload would leave it."""
    import hashlib

    from django.core.files.base import ContentFile

    from media_store.models import Image

    data = _png()
    image = Image(
        width=4,
        height=3,
        format=Image.Format.PNG,
        size=len(data),
        sha256=hashlib.sha256(data + uuid.uuid4().bytes).hexdigest(),
        alt="crawl sample",
        uploader=staff,
    )
    image.file.save("original", ContentFile(data), save=False)
    image.save()
    return image


def admin_samples() -> list[str]:
    """Per-object admin pages for one object of each registered model."""
    urls = []
    app_labels = set()
    for model in admin.site._registry:
        opts = model._meta
        app_labels.add(opts.app_label)
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        info = (opts.app_label, opts.model_name)
        for view in ("change", "history", "delete"):
            try:
                urls.append(reverse(f"admin:%s_%s_{view}" % info, args=[obj.pk]))
            except NoReverseMatch:
                continue
    for label in sorted(app_labels):
        urls.append(reverse("admin:app_list", kwargs={"app_label": label}))
    return urls


def app_samples(*, staff: Any) -> list[str]:
    """URLs from each app's `tests/<app>/crawl_samples.py`, when it has one."""
    urls: list[str] = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"tests.{config.label}.crawl_samples")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"tests.{config.label}"):
                continue
            raise
        urls.extend(module.samples(staff=staff))
    return urls


def load_demo_content() -> None:
    """The project's own demo content (`manage.py load_demo`): posts, their
    categories, tags and authors are then reached by following links.

    Its admin password file goes to a throwaway directory, never to the
    developer's var/.
    """
    import tempfile
    from pathlib import Path

    from django.core.management import call_command
    from django.test import override_settings

    with tempfile.TemporaryDirectory() as var_dir:
        with override_settings(VAR_DIR=Path(var_dir)):
            call_command("load_demo", stdout=io.StringIO())


def seed_samples(*, staff: Any) -> list[str]:
    """Everything with parameters that the crawl should visit."""
    load_demo_content()
    image = sample_image(staff=staff)
    return [
        image.get_absolute_url(),
        f"/images/{uuid.uuid4()}",  # a missing image: the 404 path
        f"/no-such-page-{uuid.uuid4().hex[:8]}",  # the site's 404 page
        *admin_samples(),
        *app_samples(staff=staff),
    ]


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src"} and value:
                self.links.append(value)


def same_origin_links(html: str) -> list[str]:
    parser = _LinkParser()
    parser.feed(html)
    links = []
    for link in parser.links:
        link = urldefrag(link).url
        parts = urlsplit(link)
        if parts.scheme or parts.netloc:
            if parts.netloc not in {"testserver", ""}:
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
        if not link.startswith("/") or link.startswith("//"):
            continue
        links.append(link)
    return links


def crawl(
    clients: dict[str, Client],
    start: Iterable[str],
    *,
    follow: Callable[[str], bool] | None = None,
    secure: bool = True,
) -> CrawlResult:
    """GET every start URL (and the links found on followed pages) once per
    identity; never follows redirects, so each response is checked as sent."""
    follow = follow or (lambda url: not url.startswith("/admin/"))
    result = CrawlResult()
    for identity, client in clients.items():
        queue = list(dict.fromkeys(start))
        seen = set(queue)
        while queue and len(seen) <= MAX_PAGES:
            url = queue.pop(0)
            if url.startswith(SKIP_PREFIXES):
                continue
            response = client.get(url, secure=secure)
            result.visits.append(Visit(url, identity, response.status_code, response))
            content_type = response.get("Content-Type", "")
            if not follow(url) or not content_type.startswith("text/html"):
                continue
            if getattr(response, "streaming", False):
                continue
            for link in same_origin_links(response.content.decode(errors="replace")):
                if link not in seen and not link.startswith(SKIP_PREFIXES):
                    seen.add(link)
                    queue.append(link)
    return result


def unreached_routes(result: CrawlResult) -> list[str]:
    """Non-admin routes that no crawled URL resolved to."""
    reached = result.reached_view_names()
    missing = []
    for route in iter_routes():
        if route.view_name.startswith("admin:") or route.pattern.startswith("admin/"):
            continue
        if route.view_name in reached or route.view_name in UNCRAWLABLE:
            continue
        missing.append(f"{route.view_name} ({route.pattern})")
    return sorted(set(missing))
