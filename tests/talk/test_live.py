"""The room on a real daphne: the page's session carries the name to the
WebSocket, and the origin check holds on the wire."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.talk.clients import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_pages_session_gives_every_tab_and_reconnect_the_same_name(
    live_daphne, room
) -> None:
    page = httpx.get(f"{live_daphne.url}/talk/{room.slug}/")
    assert page.status_code == 200
    cookie = (
        f"{settings.SESSION_COOKIE_NAME}={page.cookies[settings.SESSION_COOKIE_NAME]}"
    )

    async def tabs() -> list[str]:
        first = await ChatClient(live_daphne.url, room.slug, cookie=cookie).start()
        second = await ChatClient(live_daphne.url, room.slug, cookie=cookie).start()
        await first.close()
        again = await ChatClient(live_daphne.url, room.slug, cookie=cookie).start()
        names = [first.name, second.name, again.name]
        await second.close()
        await again.close()
        return names

    names = asyncio.run(tabs())
    assert len(set(names)) == 1
    assert f'value="{names[0]}"' in page.text  # the page shows the same name


@pytest.mark.parametrize("origin", ["https://evil.example", None])
def test_a_handshake_from_a_foreign_or_missing_origin_is_refused(
    live_daphne, room, origin
) -> None:
    async def attempt() -> int:
        url = f"ws://127.0.0.1:{live_daphne.port}/ws/talk/{room.slug}/"
        try:
            async with connect(url, origin=origin, proxy=None) as ws:
                await ws.send(json.dumps({"type": "message", "text": "forged"}))
        except InvalidStatus as refused:
            return refused.response.status_code
        return 101

    assert asyncio.run(attempt()) == 403
    from talk.models import Message

    assert not Message.objects.exists()
