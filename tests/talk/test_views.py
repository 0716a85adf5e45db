import re

import pytest
from django.conf import settings as django_settings

from talk.identity import SESSION_NAME_KEY
from talk.names import PLAYER_NAMES

pytestmark = pytest.mark.django_db


@pytest.fixture
def lobby(db):
    from talk.models import Room

    room, _ = Room.objects.get_or_create(slug="lobby", defaults={"name": "로비"})
    return room


def test_talk_opens_the_lobby_and_gives_the_session_a_name(client, lobby) -> None:
    response = client.get("/talk/")
    assert response.status_code == 200
    assert "talk/room.html" in [t.name for t in response.templates]
    assert response.context["room"] == lobby
    assert response.context["ws_path"] == "/ws/talk/lobby/"
    name = client.session[SESSION_NAME_KEY]
    assert name in PLAYER_NAMES
    assert response.cookies[django_settings.SESSION_COOKIE_NAME].value
    # The same name on the next visit.
    assert client.get("/talk/").context["name"] == name


def test_a_named_room_has_its_own_page(client, lobby) -> None:
    from talk.models import Room

    Room.objects.create(slug="dev", name="개발")
    response = client.get("/talk/dev/")
    assert response.status_code == 200
    assert response.context["ws_path"] == "/ws/talk/dev/"
    assert b'href="/talk/"' in response.content  # the room list links back


def test_an_unknown_room_is_404(client) -> None:
    assert client.get("/talk/no-such-room/").status_code == 404


def test_the_page_has_no_inline_script_or_handler(client, lobby) -> None:
    html = client.get("/talk/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "/static/talk/talk.js" in html and "/static/talk/talk.css" in html


def test_the_lobby_is_created_by_a_data_migration(db) -> None:
    from importlib import import_module

    from django.apps import apps

    from talk.models import Room

    Room.objects.filter(slug="lobby").delete()
    migration = import_module("talk.migrations.0002_lobby")
    migration.create_lobby(apps, None)
    migration.create_lobby(apps, None)  # idempotent
    assert Room.objects.get(slug="lobby").get_absolute_url() == "/talk/"
