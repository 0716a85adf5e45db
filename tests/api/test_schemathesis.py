"""Property-based run of every API operation against its own OpenAPI schema.

Real MariaDB, Redis and S3 server; the calls go through the WSGI app with an
editor's token, so write operations run their full paths. No answer may be a
5xx, and every answer (status, headers, body) must match the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from media_store.services import image_create
from tests.posts.conftest import png_bytes
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

# Enough to reach every validation branch without making the suite slow on a
# 2-core machine: about 25 operations × this many examples.
EXAMPLES_PER_OPERATION = 12


@pytest.fixture(autouse=True)
def _in_process_app(clear_cache: None) -> Iterator[None]:
    # Like Django's test client: the WSGI handler must not close the
    # connection that holds the test's transaction at the end of a request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield from _schema_with_open_rates()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _schema_with_open_rates() -> Iterator[Any]:
    rates = {name: "100000/min" for name in ("anon", "user", "login")}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        from rest_framework.settings import api_settings
        from rest_framework.throttling import SimpleRateThrottle

        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        yield
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


@pytest.fixture
def editor_token(editor: Any) -> str:
    """An editor's token, plus a category, a post and an image to find."""
    category = make_category("general", slug="general")
    image = image_create(file=png_bytes("schemathesis"), uploader=editor)
    make_post(author=editor, category=category, title="hello", slug="hello")
    make_post(
        author=editor, category=category, title="draft", slug="draft", published=False
    )
    assert image.pk
    return Token.objects.create(user=editor).key


# Loaded once at collection: the schema view needs neither the database nor S3.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_within_its_schema_and_never_5xx(
    case: Any, editor_token: str
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {editor_token}"},
        # Schema-valid is not always acceptable: a wrong password, a taken
        # name, bytes that are not an image or an unknown thumbnail UUID are
        # rightly a 400. Every other check (no 5xx, documented statuses,
        # content types, headers and bodies, invalid input refused) runs.
        excluded_checks=[positive_data_acceptance],
    )
