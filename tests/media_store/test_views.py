"""GET /images/<uuid>: redirects to presigned URLs on the real S3 server."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.test import Client

from media_store import services
from media_store.storage import presigned_get_url
from tests.media_store.conftest import get_object, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown(used_by: Any) -> Any:
    """Upload an image that a published post shows (so visitors may fetch it)."""

    def make(data: bytes) -> Any:
        image = services.image_create(file=data)
        used_by(image, public=True)
        return image

    return make


def test_image_url_redirects_to_a_presigned_url_that_returns_the_bytes(
    shown: Any, client: Client, s3_client: Any
) -> None:
    image = shown(image_bytes("PNG", (40, 30)))

    response = client.get(f"/images/{image.pk}")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(settings.S3_PUBLIC_ENDPOINT_URL)
    assert urlsplit(location).path == f"/{settings.S3_BUCKET}/{image.file.name}"
    assert "X-Amz-Signature=" in location
    cache_control = response["Cache-Control"]
    assert "private" in cache_control
    assert "max-age=60" in cache_control
    fetched = httpx.get(location)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.content == get_object(s3_client, image.file.name)["Body"].read()


def test_unknown_image_is_404(client: Client) -> None:
    assert client.get(f"/images/{uuid.uuid4()}").status_code == 404


def test_presigned_url_expires() -> None:
    image = services.image_create(file=image_bytes("PNG", (41, 30)))
    # S3 signatures count from the whole second they were made in, so a
    # one-second URL can have almost no life left by the first GET on a busy
    # machine; three seconds leave room for it.
    url = presigned_get_url(image.file.name, expires=3)
    assert httpx.get(url).status_code == 200

    time.sleep(4.5)  # let the signature lapse (not a timing assert)

    assert httpx.get(url).status_code == 403


def test_bucket_refuses_anonymous_read_and_list() -> None:
    image = services.image_create(file=image_bytes("PNG", (42, 30)))
    endpoint = settings.S3_ENDPOINT_URL

    listing = httpx.get(f"{endpoint}/{settings.S3_BUCKET}")
    read = httpx.get(f"{endpoint}/{settings.S3_BUCKET}/{image.file.name}")
    listing_v2 = httpx.get(f"{endpoint}/{settings.S3_BUCKET}/?list-type=2")

    for response in (listing, read, listing_v2):
        assert response.status_code in {401, 403}, response.text
    assert image.file.name not in listing.text + listing_v2.text


def test_width_parameter_redirects_to_that_rendition(
    shown: Any, client: Client
) -> None:
    image = shown(image_bytes("JPEG", (1000, 500)))

    jpeg = client.get(f"/images/{image.pk}?w=480")
    webp = client.get(f"/images/{image.pk}?w=960&fm=webp")

    assert jpeg.status_code == webp.status_code == 302
    assert urlsplit(jpeg["Location"]).path.endswith(f"/images/{image.pk}/w480.jpg")
    assert urlsplit(webp["Location"]).path.endswith(f"/images/{image.pk}/w960.webp")
    fetched = httpx.get(webp["Location"])
    assert fetched.headers["content-type"] == "image/webp"


def test_width_wider_than_the_image_redirects_to_the_original(
    shown: Any, client: Client
) -> None:
    image = shown(image_bytes("JPEG", (1000, 500)))
    response = client.get(f"/images/{image.pk}?w=1600")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path.endswith(f"/{image.pk}/original")


@pytest.mark.parametrize("query", ["w=481", "w=abc", "w=", "w=480&fm=avif"])
def test_width_outside_the_fixed_set_is_a_clear_400(
    shown: Any, client: Client, query: str
) -> None:
    image = shown(image_bytes("JPEG", (1000, 500)))
    response = client.get(f"/images/{image.pk}?{query}")
    assert response.status_code == 400
    assert b"must be" in response.content


def test_post_to_an_image_url_is_refused(shown: Any, client: Client) -> None:
    image = shown(image_bytes("PNG", (43, 30)))
    assert client.post(f"/images/{image.pk}").status_code == 405


def test_animation_width_request_redirects_to_the_original(
    shown: Any, client: Client
) -> None:
    from tests.media_store.conftest import animated_bytes

    image = shown(animated_bytes("GIF"))
    response = client.get(f"/images/{image.pk}?w=480")
    assert urlsplit(response["Location"]).path.endswith(f"/{image.pk}/original")
