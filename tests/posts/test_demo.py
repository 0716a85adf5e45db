"""load_demo: demo posts with images, created once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from media_store.models import Image
from posts.models import Category, Post

pytestmark = pytest.mark.django_db


def test_load_demo_creates_posts_images_and_login_once(
    settings, tmp_path, client
) -> None:
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Admin login: admin / " in out.getvalue()
    assert "4 new posts" in out.getvalue()
    counts = (Post.objects.count(), Category.objects.count(), Image.objects.count())
    assert counts == (4, 4, 3)
    call_command("load_demo", stdout=StringIO())
    assert (
        Post.objects.count(),
        Category.objects.count(),
        Image.objects.count(),
    ) == counts
    assert set(Post.objects.values_list("status", flat=True)) == {"published"}
    for post in Post.objects.select_related("category"):
        assert client.get(post.get_absolute_url()).status_code == 200
        for image in post.images.all():
            assert f'src="/images/{image.pk}"' in post.body_html
    assert sum(p.images.count() for p in Post.objects.all()) == 3
