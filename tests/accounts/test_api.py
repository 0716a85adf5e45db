"""Token auth for REST clients: issue, use, revoke, throttle."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_a_username_and_password_give_a_token_that_authenticates(
    api: APIClient, clear_cache: None
) -> None:
    user = UserFactory()
    response = api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.delete(TOKEN_URL).status_code == 204


def test_wrong_credentials_are_a_400_with_a_clear_message(
    api: APIClient, clear_cache: None
) -> None:
    user = UserFactory()
    credentials = {"username": user.username, "password": "nope"}
    response = api.post(TOKEN_URL, credentials, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "credentials" in response.json()["non_field_errors"][0]
    korean = api.post(TOKEN_URL, credentials)  # the site's default language
    assert korean.json()["non_field_errors"] == ["입력한 정보로 로그인할 수 없습니다."]


def test_missing_fields_are_field_errors(api: APIClient, clear_cache: None) -> None:
    response = api.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_a_revoked_token_no_longer_authenticates(
    api: APIClient, clear_cache: None
) -> None:
    user = UserFactory()
    token = api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.delete(TOKEN_URL).status_code == 204
    response = api.delete(TOKEN_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_revoking_without_credentials_is_401(api: APIClient) -> None:
    assert api.delete(TOKEN_URL).status_code == 401


def test_token_logins_are_throttled_with_retry_after(
    api: APIClient, clear_cache: None
) -> None:
    from django.conf import settings

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        from rest_framework.settings import api_settings
        from rest_framework.throttling import SimpleRateThrottle

        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        statuses = [
            api.post(TOKEN_URL, {"username": "x", "password": "y"}).status_code
            for _ in range(4)
        ]
        response = api.post(TOKEN_URL, {"username": "x", "password": "y"})
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert statuses == [400, 400, 400, 429]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
