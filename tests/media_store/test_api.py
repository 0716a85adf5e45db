"""Images over REST against the real S3 server: upload, list, delete, direct
uploads, and hostile files (issue 10, item 5) all refused with a 4xx."""

from __future__ import annotations

import io
import resource
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from PIL import Image as PILImage
from rest_framework.test import APIClient

from media_store.models import Image
from tests.accounts.factories import UserFactory
from tests.media_store.conftest import (
    bucket_keys,
    get_object,
    image_bytes,
    png_declaring,
    upload,
)

pytestmark = pytest.mark.django_db

IMAGES = "/api/v1/images/"


@pytest.fixture
def groups(db: None) -> None:
    from posts.permissions import groups_ensure

    groups_ensure()


def member(group: str) -> Any:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def author(groups: None) -> Any:
    return member("Authors")


@pytest.fixture
def api(author: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(author)
    return client


def test_upload_answers_the_documented_fields(api: APIClient, s3_client: Any) -> None:
    response = api.post(
        IMAGES,
        {"file": upload(image_bytes("PNG", (64, 48))), "alt": "도식"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) == {
        "id", "url", "width", "height", "format", "size", "alt", "markdown",
    }  # fmt: skip
    assert data["url"] == f"/images/{data['id']}"
    assert (data["width"], data["height"], data["format"]) == (64, 48, "PNG")
    assert data["alt"] == "도식"
    assert f"images/{data['id']}/original" in bucket_keys(s3_client, "images/")


def test_a_bad_file_is_400_and_leaves_no_row_or_object(
    api: APIClient, s3_client: Any
) -> None:
    before = bucket_keys(s3_client, "images/")
    response = api.post(
        IMAGES, {"file": upload(b"not an image at all")}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json() or "non_field_errors" in response.json()
    assert Image.objects.count() == 0
    assert bucket_keys(s3_client, "images/") == before


def test_missing_file_is_a_field_error(api: APIClient) -> None:
    response = api.post(IMAGES, {"alt": "x"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_anonymous_and_unprivileged_uploads_are_refused(groups: None) -> None:
    anonymous = APIClient()
    data = {"file": upload(image_bytes())}
    assert anonymous.post(IMAGES, data, format="multipart").status_code == 401
    reader = APIClient()
    reader.force_authenticate(UserFactory())
    data = {"file": upload(image_bytes())}
    assert reader.post(IMAGES, data, format="multipart").status_code == 403


def test_the_list_shows_only_ones_own_images(api: APIClient, groups: None) -> None:
    mine = api.post(IMAGES, {"file": upload(image_bytes())}, format="multipart")
    other = APIClient()
    other.force_authenticate(member("Authors"))
    theirs = other.post(
        IMAGES, {"file": upload(image_bytes("PNG", (30, 30)))}, format="multipart"
    )
    assert theirs.status_code == 201
    listed = api.get(IMAGES).json()
    assert [i["id"] for i in listed["results"]] == [mine.json()["id"]]
    assert APIClient().get(IMAGES).status_code == 401


def test_delete_removes_an_unused_image_and_its_objects(
    api: APIClient, s3_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    image_id = api.post(
        IMAGES, {"file": upload(image_bytes())}, format="multipart"
    ).json()["id"]
    keys = {k for k in bucket_keys(s3_client, "images/") if image_id in k}
    assert keys
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{IMAGES}{image_id}/")
    assert response.status_code == 204
    assert not Image.objects.filter(pk=image_id).exists()
    assert not {k for k in bucket_keys(s3_client, "images/") if image_id in k}


def test_an_image_used_by_a_post_cannot_be_deleted(api: APIClient, author: Any) -> None:
    from tests.posts.factories import make_post

    image_id = api.post(
        IMAGES, {"file": upload(image_bytes())}, format="multipart"
    ).json()["id"]
    post = make_post(author=author, body=f"![x](/images/{image_id})")
    response = api.delete(f"{IMAGES}{image_id}/")
    assert response.status_code == 400
    assert post.title in response.json()["non_field_errors"][0]
    assert Image.objects.filter(pk=image_id).exists()


def test_another_authors_image_cannot_be_deleted(api: APIClient) -> None:
    image_id = api.post(
        IMAGES, {"file": upload(image_bytes())}, format="multipart"
    ).json()["id"]
    other = APIClient()
    other.force_authenticate(member("Authors"))
    assert other.delete(f"{IMAGES}{image_id}/").status_code == 403
    editor = APIClient()
    editor.force_authenticate(member("Editors"))
    assert editor.delete(f"{IMAGES}{image_id}/").status_code == 204
    unknown = "00000000-0000-0000-0000-000000000000"
    assert api.delete(f"{IMAGES}{unknown}/").status_code == 404


def test_direct_upload_request_and_confirm(api: APIClient, s3_client: Any) -> None:
    begun = api.post(f"{IMAGES}direct/", {"content_type": "image/png"}, format="json")
    assert begun.status_code == 200, begun.json()
    ticket = begun.json()
    assert ticket["method"] == "post" and ticket["max_bytes"] > 0
    stored = httpx.post(
        ticket["url"],
        data=ticket["fields"],
        files={"file": ("x", image_bytes("PNG", (40, 20)), "image/png")},
    )
    assert stored.status_code in {200, 201, 204}, stored.text
    confirmed = api.post(
        f"{IMAGES}direct/confirm/",
        {"token": ticket["token"], "alt": "직접"},
        format="json",
    )
    assert confirmed.status_code == 201, confirmed.json()
    assert confirmed.json()["alt"] == "직접"
    assert Image.objects.filter(pk=confirmed.json()["id"]).exists()
    assert bucket_keys(s3_client, "uploads/") == set()


def test_direct_upload_refuses_svg_and_forged_tokens(api: APIClient) -> None:
    svg = api.post(f"{IMAGES}direct/", {"content_type": "image/svg+xml"}, format="json")
    assert svg.status_code == 400 and "content_type" in svg.json()
    forged = api.post(f"{IMAGES}direct/confirm/", {"token": "x:y:z"}, format="json")
    assert forged.status_code == 400


# --- hostile uploads (issue 10, item 5) --------------------------------------


def _svg_with_script() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(document.domain)</script></svg>"
    )


def _html_behind_png_header() -> bytes:
    return b"\x89PNG\r\n\x1a\n<html><body><script>alert(1)</script></body></html>"


def _many_frame_gif() -> bytes:
    frames = [
        PILImage.new("RGB", (100, 100), (i * 3 % 256, i * 7 % 256, i * 11 % 256))
        for i in range(80)
    ]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=10)
    return out.getvalue()


HOSTILE = {
    "svg-with-script": (_svg_with_script, "image/svg+xml"),
    "html-behind-png-header": (_html_behind_png_header, "image/png"),
    "decompression-bomb": (lambda: png_declaring(100_000, 100_000), "image/png"),
    "many-frame-gif": (_many_frame_gif, "image/gif"),
    "oversized-body": (lambda: image_bytes("PNG", (400, 400), noise=True), "image/png"),
}


@override_settings(MEDIA_MAX_PIXELS=100_000, MEDIA_MAX_UPLOAD_BYTES=200_000)
def test_hostile_uploads_are_refused_and_never_served_as_html(
    api: APIClient, s3_client: Any
) -> None:
    before = bucket_keys(s3_client)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused = {}
    for name, (make, content_type) in HOSTILE.items():
        data = {"file": upload(make(), name=f"{name}.bin", content_type=content_type)}
        response = api.post(IMAGES, data, format="multipart")
        refused[name] = response.status_code
        assert "html" not in response["Content-Type"]
    # A valid PNG with HTML appended after IEND is re-encoded: the stored
    # object is a plain PNG, served as image/png.
    polyglot = image_bytes("PNG", (20, 20)) + b"<html><script>alert(1)</script>"
    accepted = api.post(IMAGES, {"file": upload(polyglot)}, format="multipart")
    assert accepted.status_code == 201
    stored = get_object(s3_client, f"images/{accepted.json()['id']}/original")
    assert stored["ContentType"] == "image/png"
    assert b"<script" not in stored["Body"].read()
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(
        f"\nhostile uploads: {len(refused)} sent, "
        f"{sum(400 <= code < 500 for code in refused.values())} refused with 4xx "
        f"{refused}, 0 served as HTML, peak RSS growth {growth_mb:.1f} MB"
    )
    assert all(400 <= code < 500 for code in refused.values()), refused
    assert Image.objects.count() == 1
    assert bucket_keys(s3_client) - before == {
        key for key in bucket_keys(s3_client) if accepted.json()["id"] in key
    }
    assert growth_mb < 256


def test_a_multipart_with_thousands_of_parts_is_a_400(api: APIClient) -> None:
    fields = {f"f{i}": "x" for i in range(5000)}
    response = api.post(
        IMAGES, {**fields, "file": upload(image_bytes())}, format="multipart"
    )
    assert response.status_code == 400
    assert Image.objects.count() == 0


def test_thousands_of_files_in_one_multipart_are_a_400(api: APIClient) -> None:
    files = {f"file{i}": upload(b"x", name=f"{i}.png") for i in range(500)}
    response = api.post(IMAGES, files, format="multipart")
    assert response.status_code == 400
    assert Image.objects.count() == 0
