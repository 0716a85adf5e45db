"""Who is talking: the session's nickname and keyed hashes for blocking."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings

from talk.names import random_name

SESSION_NAME_KEY = "talk_name"


def anon_hash(kind: str, value: str) -> str:
    """A keyed hash of a session key or address: stable, not reversible."""
    key = f"talk.{kind}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:40]


def session_name(session: Any) -> tuple[str, bool]:
    """The session's nickname, assigning a random one; and whether it is new."""
    name = session.get(SESSION_NAME_KEY)
    if isinstance(name, str) and name:
        return name, False
    name = random_name()
    session[SESSION_NAME_KEY] = name
    return name, True
