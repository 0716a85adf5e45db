"""What the runner asks Django itself, in a subprocess with the bench's settings.

    python -m bench.inside urls [SEED_TITLE]   JSON: the URL of each HTTP case
    python -m bench.inside queries URL...      JSON: SQL queries per page
    python -m bench.inside profile URL [N]     pyinstrument report of N requests

Query counts use Django's test client with CaptureQueriesContext: one
request first (so per-process lookups such as the content-type cache are
warm), then the counted one, as a visitor's second request sees it.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import quote


def _setup() -> None:
    import django

    django.setup()


def case_urls(seed_title: str | None) -> dict[str, str]:
    from django.urls import Resolver404, resolve, reverse

    urls: dict[str, str] = {"home": "/"}

    def routable(path: str) -> bool:
        try:
            resolve(path.split("?", 1)[0])
        except Resolver404:
            return False
        return True

    try:
        from posts.models import Post
    except ImportError:  # the posts app has not landed yet
        Post = None  # noqa: N806
    if Post is not None:
        posts = Post.objects.select_related("category")
        post = (seed_title and posts.filter(title=seed_title).first()) or posts.filter(
            status="published"
        ).order_by("-published_at").first()
        if post is not None:
            urls["post"] = post.get_absolute_url()
            if getattr(post, "category", None) is not None:
                urls["category"] = post.category.get_absolute_url()
            if getattr(post, "thumbnail_id", None):
                urls["image"] = f"/images/{post.thumbnail_id}"
    for name, path in (
        ("search", "/search/?q=" + quote("쿠버네티스")),
        ("feed", _reverse_or(reverse, "posts:feed_rss", "/feed/rss/")),
        ("api_posts", "/api/v1/posts/"),
    ):
        if routable(path):
            urls[name] = path
    if "image" not in urls:
        from media_store.models import Image

        image = Image.objects.order_by("created_at").first()
        if image is not None:
            urls["image"] = image.get_absolute_url()
    return urls


def _reverse_or(reverse: Any, name: str, default: str) -> str:
    try:
        return reverse(name)
    except Exception:  # noqa: BLE001 - the route may not exist yet
        return default


def query_counts(paths: list[str]) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    out: dict[str, Any] = {}
    for path in paths:
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        out[path] = {
            "status": response.status_code,
            "queries": len(captured.captured_queries),
            "sql": [q["sql"][:300] for q in captured.captured_queries],
        }
    return out


def profile(path: str, repeat: int = 50) -> str:
    """pyinstrument's text report of `repeat` uncached requests for one page."""
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_HOST="127.0.0.1")
    client.get(path)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeat):
        client.get(path)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def main(argv: list[str]) -> int:
    _setup()
    command, args = argv[0], argv[1:]
    if command == "urls":
        result: Any = case_urls(args[0] if args else None)
    elif command == "queries":
        result = query_counts(args)
    elif command == "profile":
        sys.stdout.write(profile(args[0], int(args[1]) if len(args) > 1 else 50))
        return 0
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
