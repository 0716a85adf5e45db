"""Public pages. Thin: parse the request, call a selector, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage, Page, Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from posts import selectors
from posts.cache import public_post_page


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    paginator = Paginator(queryset, getattr(settings, "POSTS_PER_PAGE", 10))
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except InvalidPage as exc:  # not a number, or past the last page
        raise Http404("No such page") from exc


@require_safe
@public_post_page
def home(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.post_list_published())
    return render(request, "posts/home.html", {"page_obj": page})


@require_safe
@public_post_page
def post_detail(request: HttpRequest, category: str, slug: str) -> HttpResponse:
    post = selectors.post_get_for_page(slug=slug, user=request.user)
    if post is None:
        moved = selectors.post_get_redirect(old_slug=slug)
        if moved is not None and moved.is_public:
            return HttpResponsePermanentRedirect(moved.get_absolute_url())
        raise Http404("No such post")
    if post.category.slug != category:
        # The post moved to another category (or the category was renamed).
        return HttpResponsePermanentRedirect(post.get_absolute_url())
    links = selectors.post_page_links(post=post)
    return render(
        request,
        "posts/post_detail.html",
        {
            "post": post,
            "tags": links.tags,
            "previous_post": links.previous,
            "next_post": links.next,
            "is_preview": not post.is_public,
        },
    )


@require_safe
@public_post_page
def category_list(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_list_with_counts()
    return render(request, "posts/category_list.html", {"categories": categories})


@require_safe
@public_post_page
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    if category is None:
        moved = selectors.category_get_redirect(old_slug=slug)
        if moved is not None:
            return HttpResponsePermanentRedirect(moved.get_absolute_url())
        raise Http404("No such category")
    page = _page(request, selectors.post_list_published(category=category))
    return render(
        request, "posts/category_detail.html", {"category": category, "page_obj": page}
    )


@require_safe
@public_post_page
def author_detail(request: HttpRequest, username: str) -> HttpResponse:
    author = selectors.author_get(username=username)
    if author is None:
        raise Http404("No such author")
    page = _page(request, selectors.post_list_published(author=author))
    if not page.object_list and not author.posts.exists():
        raise Http404("No such author")
    return render(
        request, "posts/author_detail.html", {"author": author, "page_obj": page}
    )


@require_safe
@public_post_page
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = _page(request, selectors.post_list_published(tag=slug))
    if not page.object_list:
        raise Http404("No such tag")
    return render(request, "posts/tag_detail.html", {"tag": slug, "page_obj": page})


@require_safe
@public_post_page
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    page = None
    if query:
        page = _page(request, selectors.post_search(query=query, user=None))
        for post in page.object_list:
            post.snippet = selectors.post_search_snippet(post=post, query=query)
    return render(request, "posts/search.html", {"query": query, "page_obj": page})


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        "Disallow: /api/",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
