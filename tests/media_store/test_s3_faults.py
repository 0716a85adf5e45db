"""Drill (issue 10 item 13): uploads while S3 hangs or is down, then reconcile.

A throwaway SeaweedFS server of the test's own is frozen (SIGSTOP: it
accepts connections and never answers) and later killed. Every upload path
must fail with a clear 4xx within the configured timeouts and leave no row;
objects the hung server wrote after the client gave up, and those of a
rolled-back transaction, are found and removed by `media_reconcile`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.test import APIClient

from blog_site.errors import ServiceUnavailable
from media_store import services, storage
from media_store.models import Image
from tests.media_store.conftest import image_bytes, upload
from tests.posts.factories import UserFactory
from tests.services import S3Server, new_s3_server

pytestmark = pytest.mark.django_db

# Short timeouts keep the drill quick; the bound below is derived from them.
TIMEOUTS = {"S3_CONNECT_TIMEOUT": 1.0, "S3_READ_TIMEOUT": 2.0, "S3_MAX_ATTEMPTS": 2}
# Image decoding, renditions and Django's own work on a busy 2-core machine.
SLACK_SECONDS = 4.0


@pytest.fixture
def own_s3() -> Iterator[S3Server]:
    """A SeaweedFS server of this test's own, with the app pointed at it."""
    server = new_s3_server()
    server.start()
    options = {
        **settings.STORAGES["default"]["OPTIONS"],
        "endpoint_url": server.endpoint,
    }
    storages = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": options},
    }
    try:
        with override_settings(
            STORAGES=storages,
            S3_ENDPOINT_URL=server.endpoint,
            S3_PUBLIC_ENDPOINT_URL=server.endpoint,
            **TIMEOUTS,
        ):
            storage.ensure_bucket()
            yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGCONT)
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def _uploader() -> Any:
    from posts.permissions import groups_ensure

    groups_ensure()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    return user


def _orphans() -> list[str]:
    return services.orphan_objects(older_than=timedelta(0))


def _settle(read: Callable[[], list[str]], seconds: float = 6.0) -> list[str]:
    """Wait until a thawed server has finished the requests it held."""
    deadline, last = time.monotonic() + seconds, read()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if now == last and now:
            return now
        last = now
    return last


def test_uploads_fail_cleanly_while_s3_hangs_or_is_down_and_reconcile_cleans_up(
    own_s3: S3Server,
) -> None:
    assert own_s3.process is not None
    bound = storage.request_time_bound() + SLACK_SECONDS
    user = _uploader()
    api = APIClient()
    api.force_authenticate(user)
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    kept = services.image_create(file=image_bytes("JPEG", (1000, 500)))
    kept_objects = set(storage_names(f"images/{kept.pk}/"))
    assert len(kept_objects) == 5  # the original and two widths in two formats

    times: list[float] = []
    codes: list[int] = []
    sizes = iter(range(600, 700))

    def attempts() -> None:
        """One upload through each path; all must fail without a 500."""
        width = next(sizes)
        started = time.monotonic()
        with pytest.raises(ValidationError) as excinfo:
            services.image_create(file=image_bytes("JPEG", (width, 300)), uploader=user)
        times.append(time.monotonic() - started)
        assert excinfo.value.code == "storage_unavailable"
        assert isinstance(excinfo.value, ServiceUnavailable)

        for send in (
            lambda data: api.post(
                "/api/v1/images/", {"file": upload(data, "a.png")}, format="multipart"
            ),
            lambda data: staff.post(
                "/media-admin/images/upload", {"file": upload(data, "b.png")}
            ),
        ):
            data = image_bytes("PNG", (next(sizes), 300))
            started = time.monotonic()
            response = send(data)
            times.append(time.monotonic() - started)
            codes.append(response.status_code)
            # The input was fine: the answer blames the storage, not the file.
            assert response.status_code == 503, response.content
            assert response["Retry-After"] == "30"
            assert "storage is unavailable" in response.content.decode()

    # Slow: the server accepts connections and never answers.
    os.killpg(own_s3.process.pid, signal.SIGSTOP)
    try:
        attempts()
    finally:
        os.killpg(own_s3.process.pid, signal.SIGCONT)
    assert list(Image.objects.values_list("pk", flat=True)) == [kept.pk]

    # The thawed server now completes the PUTs the client gave up on:
    # objects without a row. A rolled-back transaction leaves some too.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.image_create(file=image_bytes("JPEG", (900, 400)))
        raise RuntimeError("the caller's transaction fails after the upload")
    orphan_id = uuid.uuid4()
    for name in ("original", "w480.webp"):
        storage.put_object(
            f"images/{orphan_id}/{name}", b"left behind", content_type="image/png"
        )
    found = _settle(_orphans)
    assert len(found) >= 4  # the rolled-back upload's three, the direct two
    assert not set(found) & kept_objects

    young = StringIO()
    call_command("media_reconcile", "--older-than", "3600", "--delete", stdout=young)
    assert "Deleted: 0 object(s)" in young.getvalue()  # inside the grace period
    out = StringIO()
    call_command("media_reconcile", "--older-than", "0", "--delete", stdout=out)
    deleted = int(re.search(r"Deleted: (\d+) object", out.getvalue()).group(1))  # type: ignore[union-attr]
    after = _orphans()
    assert deleted == len(found)
    assert after == []
    assert set(storage_names("images/")) == kept_objects

    # Down: connections are refused.
    own_s3.stop(timeout=5)
    attempts()
    orphan_rows = Image.objects.exclude(pk=kept.pk).count()
    assert orphan_rows == 0
    assert set(codes) == {503}  # never a 500, never blamed on the input

    worst = max(times)
    print(
        f"\n[s3 drill] upload attempts {len(times)} (statuses {sorted(set(codes))}), "
        f"orphan rows {orphan_rows}, orphan objects found {len(found)} → "
        f"{len(after)} after reconcile, worst request time {worst:.1f} s "
        f"(bound {bound:.1f} s: {TIMEOUTS['S3_MAX_ATTEMPTS']} attempts × "
        f"({TIMEOUTS['S3_CONNECT_TIMEOUT']:.0f} s connect + 1 s 100-continue + "
        f"{TIMEOUTS['S3_READ_TIMEOUT']:.0f} s read) + backoff + "
        f"{SLACK_SECONDS:.0f} s slack)"
    )
    assert worst < bound


def storage_names(prefix: str) -> list[str]:
    return sorted(obj.name for obj in storage.iter_objects(prefix))
