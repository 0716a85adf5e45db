"""The Image admin: upload with preview, where used, snippets, protected delete."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from media_store import services
from media_store.models import Image
from tests.media_store.conftest import bucket_keys, image_bytes, upload

pytestmark = pytest.mark.django_db

ADD = "/admin/media_store/image/add/"


def change_url(image: Image) -> str:
    return f"/admin/media_store/image/{image.pk}/change/"


def assert_no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_add_page_offers_a_file_field_with_preview(admin_client: Client) -> None:
    response = admin_client.get(ADD)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'type="file" name="upload"' in html
    assert "data-image-preview" in html
    assert 'accept="image/jpeg,image/png,image/gif,image/webp"' in html
    assert "media_store/image-admin.js" in html
    assert_no_inline_script(html)


def test_upload_through_the_admin_creates_the_image(
    admin_client: Client, admin_user: Any, s3_client: Any
) -> None:
    response = admin_client.post(
        ADD, {"upload": upload(image_bytes("PNG", (70, 35))), "alt": "Admin upload"}
    )

    image = Image.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith("/admin/media_store/image/")
    assert (image.width, image.height, image.alt) == (70, 35, "Admin upload")
    assert image.uploader == admin_user
    assert image.file.name in bucket_keys(s3_client, f"images/{image.pk}/")


def test_bad_file_is_a_form_error_and_stores_nothing(
    admin_client: Client, s3_client: Any
) -> None:
    before = bucket_keys(s3_client, "images/")
    response = admin_client.post(
        ADD, {"upload": upload(b"<svg onload=alert(1)>", "x.svg", "image/svg+xml")}
    )
    assert response.status_code == 200
    assert "not a JPEG, PNG, GIF or WebP" in response.content.decode()
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, "images/") == before


def test_change_page_shows_preview_dimensions_snippet_and_usages(
    admin_client: Client, used_by: Any
) -> None:
    image = services.image_create(file=image_bytes("PNG", (64, 32)), alt="Logo")
    used_by(image, "Post “Hello world”")

    response = admin_client.get(change_url(image))
    html = response.content.decode()

    assert response.status_code == 200
    assert f'src="/images/{image.pk}?w=960"' in html
    assert "64 × 32" in html
    assert f'value="![Logo](/images/{image.pk})"' in html
    assert f'data-copy-from="markdown-{image.pk}"' in html
    assert "Post “Hello world”" in html
    assert_no_inline_script(html)


def test_alt_text_can_be_changed(admin_client: Client) -> None:
    image = services.image_create(file=image_bytes("PNG", (10, 10)), alt="old")
    response = admin_client.post(change_url(image), {"alt": "new"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.alt == "new"


def test_used_image_cannot_be_deleted_and_the_page_says_where(
    admin_client: Client, used_by: Any
) -> None:
    image = services.image_create(file=image_bytes("PNG", (16, 16)))
    used_by(image, "Post “Hello world”")
    delete_url = f"/admin/media_store/image/{image.pk}/delete/"

    page = admin_client.get(delete_url)
    attempt = admin_client.post(delete_url, {"post": "yes"})

    assert "Post “Hello world”" in page.content.decode()
    assert attempt.status_code in {200, 403}
    assert Image.objects.filter(pk=image.pk).exists()


def test_unused_image_is_deleted_with_its_objects(
    admin_client: Client, s3_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    image = services.image_create(file=image_bytes("PNG", (16, 17)))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/media_store/image/{image.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, f"images/{image.pk}/") == set()


def test_changelist_and_autocomplete_search(admin_client: Client) -> None:
    services.image_create(file=image_bytes("PNG", (18, 18)), alt="Searchable cat")
    listing = admin_client.get("/admin/media_store/image/?q=cat")
    assert listing.status_code == 200
    assert "Searchable cat" in listing.content.decode()
