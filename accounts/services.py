from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from accounts.models import User


def token_issue(*, request: HttpRequest, username: str, password: str) -> Token:
    """Exchange credentials for the user's API token (created on first use)."""
    user = authenticate(request=request, username=username, password=password)
    if user is None or not user.is_active:
        raise ValidationError(
            {"non_field_errors": [_("Unable to log in with the given credentials.")]}
        )
    token, _created = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    """Revoke the user's token; the next login issues a new one."""
    Token.objects.filter(user=user).delete()
