"""Issue 10, item 6: every API and admin write and every read of a draft, for
a visitor, another author, the owner and an editor, against the expected matrix.

Each cell runs inside a savepoint that is rolled back, so every cell starts
from the same posts, category and image. Figure: cells checked, mismatches (0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from media_store.models import Image
from media_store.services import image_create
from posts.models import Category, Post
from tests.posts.conftest import png_bytes
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "other", "owner", "editor")
PNG = png_bytes("matrix")


@dataclass
class World:
    draft: Post
    public: Post
    category: Category
    empty_category: Category
    image: Image


@dataclass(frozen=True)
class Cell:
    name: str
    run: Callable[[APIClient, Client, World], Any]
    expected: tuple[Any, Any, Any, Any]  # anonymous, other, owner, editor


def _post_body(world: World, title: str) -> dict[str, Any]:
    return {"title": title, "body": "본문", "category": world.category.slug}


def _exists(model: Any, pk: Any) -> bool:
    return model.objects.filter(pk=pk).exists()


def _slugs(response: Any) -> list[str]:
    return [post["slug"] for post in response.json()["results"]]


def _status(world: World, slug: str) -> str:
    return Post.objects.get(slug=slug).status


def admin_effect(before: bool, after: bool) -> str:
    return "done" if before != after else "refused"


P = "/api/v1/posts/"
C = "/api/v1/categories/"
IMG = "/api/v1/images/"

CELLS = [
    # --- reads of a draft ---
    Cell("api: read draft", lambda a, c, w: a.get(f"{P}{w.draft.slug}/").status_code,
         (404, 404, 200, 200)),
    Cell("api: draft in list",
         lambda a, c, w: w.draft.slug in _slugs(a.get(P)),
         (False, False, True, True)),
    Cell("api: draft in author filter",
         lambda a, c, w: w.draft.slug in _slugs(a.get(P, {"author": "writer"})),
         (False, False, True, True)),
    Cell("page: draft", lambda a, c, w: c.get(w.draft.get_absolute_url()).status_code,
         (404, 404, 200, 200)),
    Cell("admin: open draft",
         lambda a, c, w: c.get(f"/admin/posts/post/{w.draft.pk}/change/").status_code,
         (302, 302, 200, 200)),
    # --- API writes ---
    Cell("api: create post",
         lambda a, c, w: a.post(P, _post_body(w, "새 글"), format="json").status_code,
         (401, 201, 201, 201)),
    Cell("api: patch public post",
         lambda a, c, w: a.patch(f"{P}{w.public.slug}/", {"summary": "s"},
                                 format="json").status_code,
         (401, 403, 200, 200)),
    Cell("api: put public post",
         lambda a, c, w: a.put(f"{P}{w.public.slug}/", _post_body(w, "바꾼 제목"),
                               format="json").status_code,
         (401, 403, 200, 200)),
    Cell("api: patch draft",
         lambda a, c, w: a.patch(f"{P}{w.draft.slug}/", {"summary": "s"},
                                 format="json").status_code,
         (401, 404, 200, 200)),
    Cell("api: delete public post",
         lambda a, c, w: a.delete(f"{P}{w.public.slug}/").status_code,
         (401, 403, 204, 204)),
    Cell("api: delete draft",
         lambda a, c, w: a.delete(f"{P}{w.draft.slug}/").status_code,
         (401, 404, 204, 204)),
    Cell("api: publish draft",
         lambda a, c, w: a.post(f"{P}{w.draft.slug}/publish/").status_code,
         (401, 404, 200, 200)),
    Cell("api: unpublish public post",
         lambda a, c, w: a.post(f"{P}{w.public.slug}/unpublish/").status_code,
         (401, 403, 200, 200)),
    Cell("api: create category",
         lambda a, c, w: a.post(C, {"name": "새 분류"}, format="json").status_code,
         (401, 403, 403, 201)),
    Cell("api: change category",
         lambda a, c, w: a.patch(f"{C}{w.category.slug}/", {"description": "d"},
                                 format="json").status_code,
         (401, 403, 403, 200)),
    Cell("api: delete empty category",
         lambda a, c, w: a.delete(f"{C}{w.empty_category.slug}/").status_code,
         (401, 403, 403, 204)),
    Cell("api: upload image",
         lambda a, c, w: a.post(IMG, {"file": _png_file()},
                                format="multipart").status_code,
         (401, 201, 201, 201)),
    Cell("api: delete owner's image",
         lambda a, c, w: a.delete(f"{IMG}{w.image.pk}/").status_code,
         (401, 403, 204, 204)),
    Cell("api: owner's image in own list",
         lambda a, c, w: a.get(IMG).status_code == 200
         and str(w.image.pk) in [i["id"] for i in a.get(IMG).json()["results"]],
         (False, False, True, False)),
    Cell("api: direct upload",
         lambda a, c, w: a.post(f"{IMG}direct/", {"content_type": "image/png"},
                                format="json").status_code,
         (401, 200, 200, 200)),
    # --- admin writes (judged by their effect on the database) ---
    Cell("admin: delete public post",
         lambda a, c, w: admin_effect(
             True, (c.post(f"/admin/posts/post/{w.public.pk}/delete/", {"post": "yes"}),
                    _exists(Post, w.public.pk))[1]),
         ("refused", "refused", "done", "done")),
    Cell("admin: publish draft (action)",
         lambda a, c, w: (c.post("/admin/posts/post/", {
             "action": "publish_selected", "_selected_action": [w.draft.pk]}),
             _status(w, w.draft.slug))[1],
         ("draft", "draft", "published", "published")),
    Cell("admin: add category",
         lambda a, c, w: (c.post("/admin/posts/category/add/", {
             "name": "관리자 분류", "slug": "", "description": "", "position": 0}),
             Category.objects.filter(name="관리자 분류").exists())[1],
         (False, False, False, True)),
    Cell("admin: delete empty category",
         lambda a, c, w: admin_effect(True, (c.post(
             f"/admin/posts/category/{w.empty_category.pk}/delete/", {"post": "yes"}),
             _exists(Category, w.empty_category.pk))[1]),
         ("refused", "refused", "refused", "done")),
    Cell("admin: delete owner's image",
         lambda a, c, w: admin_effect(True, (c.post(
             f"/admin/media_store/image/{w.image.pk}/delete/", {"post": "yes"}),
             _exists(Image, w.image.pk))[1]),
         ("refused", "refused", "refused", "done")),
]  # fmt: skip


def _png_file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    # The same bytes as the world's image: the upload answers the stored
    # image, so a rolled-back cell leaves no object behind in the bucket.
    return SimpleUploadedFile("same.png", PNG, content_type="image/png")


class _Rollback(Exception):
    pass


def test_authorization_matrix_has_no_mismatches(
    author: Any, other_author: Any, editor: Any, clear_cache: None
) -> None:
    category = make_category("분류", slug="cat")
    world = World(
        draft=make_post(author=author, category=category, published=False),
        public=make_post(author=author, category=category),
        category=category,
        empty_category=make_category("빈 분류", slug="empty"),
        image=image_create(file=PNG, uploader=author),
    )
    users = {"anonymous": None, "other": other_author, "owner": author}
    users["editor"] = editor
    mismatches = []
    checked = 0
    for cell in CELLS:
        for actor, expected in zip(ACTORS, cell.expected, strict=True):
            api, client = APIClient(), Client()
            if users[actor] is not None:
                api.force_authenticate(users[actor])
                client.force_login(users[actor])
            try:
                with transaction.atomic():
                    got = cell.run(api, client, world)
                    raise _Rollback
            except _Rollback:
                pass
            checked += 1
            if got != expected:
                mismatches.append(
                    f"{cell.name} as {actor}: got {got!r}, want {expected!r}"
                )
    print(f"\nauthorization matrix: {checked} cells, {len(mismatches)} mismatches")
    assert mismatches == []
