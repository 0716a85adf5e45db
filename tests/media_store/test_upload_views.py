"""Staff JSON upload endpoints under /media-admin/ (session auth, CSRF)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from accounts.models import User
from media_store.models import Image
from tests.media_store.conftest import bucket_keys, image_bytes, upload

pytestmark = pytest.mark.django_db

UPLOAD = "/media-admin/images/upload"
DIRECT = "/media-admin/images/direct"
CONFIRM = "/media-admin/images/direct/confirm"


@pytest.fixture
def staff() -> User:
    user = User.objects.create_user(
        username="editor",
        email="editor@example.com",
        password="pw-editor-123",
        is_staff=True,
    )
    user.user_permissions.add(Permission.objects.get(codename="add_image"))
    return user


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    return client


def csrf_post(client: Client, url: str, data: dict[str, Any]) -> Any:
    client.get("/admin/")  # its logout form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    return client.post(url, data, HTTP_X_CSRFTOKEN=token)


def test_staff_upload_returns_id_url_and_markdown(
    staff_client: Client, staff: User
) -> None:
    response = csrf_post(
        staff_client,
        UPLOAD,
        {"file": upload(image_bytes("PNG", (30, 20))), "alt": "Diagram"},
    )

    assert response.status_code == 201
    body = response.json()
    image = Image.objects.get()
    assert body["id"] == str(image.pk)
    assert body["url"] == f"/images/{image.pk}"
    assert body["markdown"] == f"![Diagram](/images/{image.pk})"
    assert body["html"] == f'<img alt="Diagram" src="/images/{image.pk}"/>'
    assert (body["width"], body["height"]) == (30, 20)
    assert image.uploader == staff


def test_bad_file_is_a_400_with_the_reason(staff_client: Client) -> None:
    response = csrf_post(
        staff_client, UPLOAD, {"file": upload(b"not an image", "x.jpg", "image/jpeg")}
    )
    assert response.status_code == 400
    assert "not a JPEG, PNG, GIF or WebP" in response.json()["error"]
    assert not Image.objects.exists()


def test_missing_file_is_a_400(staff_client: Client) -> None:
    response = csrf_post(staff_client, UPLOAD, {"alt": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "Choose an image file to upload."


def test_upload_without_csrf_token_is_refused(staff: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(UPLOAD, {"file": upload(image_bytes())})
    assert response.status_code == 403
    assert not Image.objects.exists()


def test_anonymous_upload_is_refused(client: Client) -> None:
    response = client.post(UPLOAD, {"file": upload(image_bytes())})
    assert response.status_code == 403
    assert response.json()["error"] == "Log in to upload images."
    assert not Image.objects.exists()


def test_non_staff_upload_is_refused() -> None:
    reader = User.objects.create_user(username="reader", email="r@example.com")
    client = Client()
    client.force_login(reader)
    response = client.post(UPLOAD, {"file": upload(image_bytes())})
    assert response.status_code == 403
    assert response.json()["error"] == "You may not upload images."


def test_staff_without_add_permission_is_refused() -> None:
    staff = User.objects.create_user(username="s", email="s@example.com", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.post(UPLOAD, {"file": upload(image_bytes())}).status_code == 403


def test_get_is_not_allowed(staff_client: Client) -> None:
    assert staff_client.get(UPLOAD).status_code == 405


def test_direct_flow_through_the_endpoints(
    staff_client: Client, s3_client: Any
) -> None:
    plan = csrf_post(staff_client, DIRECT, {"content_type": "image/png"})
    assert plan.status_code == 200
    body = plan.json()
    assert body["method"] == "post"
    assert body["confirm_url"] == CONFIRM

    sent = httpx.post(
        body["url"],
        data=body["fields"],
        files={"file": ("x.png", image_bytes("PNG", (25, 25)), "image/png")},
    )
    assert sent.status_code in {200, 201, 204}

    confirmed = csrf_post(
        staff_client, CONFIRM, {"token": body["token"], "alt": "Direct"}
    )
    assert confirmed.status_code == 201
    image = Image.objects.get()
    assert confirmed.json()["markdown"] == f"![Direct](/images/{image.pk})"
    assert image.file.name in bucket_keys(s3_client, f"images/{image.pk}/")


def test_direct_begin_refuses_svg(staff_client: Client) -> None:
    response = csrf_post(staff_client, DIRECT, {"content_type": "image/svg+xml"})
    assert response.status_code == 400
    assert "Only JPEG, PNG, GIF and WebP" in response.json()["error"]


def test_confirm_with_a_forged_token_is_a_400(staff_client: Client) -> None:
    response = csrf_post(staff_client, CONFIRM, {"token": "forged"})
    assert response.status_code == 400
    assert "unknown or has expired" in response.json()["error"]


def test_direct_begin_without_s3_points_at_the_multipart_upload(
    staff_client: Client, tmp_path: Any
) -> None:
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"},
        },
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    with override_settings(S3_ENDPOINT_URL="", STORAGES=storages):
        response = csrf_post(staff_client, DIRECT, {"content_type": "image/png"})
    assert response.status_code == 200
    assert response.json() == {"method": "multipart", "url": UPLOAD}
