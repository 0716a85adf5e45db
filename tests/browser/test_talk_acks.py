"""The browser client acknowledges frames, and comes back after a 4408.

A frozen tab (its main thread busy) cannot acknowledge: the server closes it
as over capacity, and once the tab runs again it reconnects and resumes with
nothing lost and nothing twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.conf import settings

from tests.conftest import live_env
from tests.services import DaphneServer

pytestmark = pytest.mark.browser

T = TypeVar("T")

# Records what the page's WebSocket sends and how it closes.
RECORDER = """
(() => {
  const Real = window.WebSocket;
  window.__ws = { sent: [], closes: [] };
  window.WebSocket = function (url, protocols) {
    const socket = new Real(url, protocols);
    const send = socket.send.bind(socket);
    socket.send = (data) => { window.__ws.sent.push(data); send(data); };
    socket.addEventListener("close", (e) => window.__ws.closes.push(e.code));
    return socket;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, {
    CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3,
  });
})();
"""


@pytest.fixture
def server(transactional_db) -> Iterator[DaphneServer]:
    daphne = DaphneServer(
        env=live_env(
            settings.DATABASES["default"]["NAME"],
            REDIS_URL=settings.REDIS_URL,
            # Above a resume's batch here (hello + 15 + resumed), below the
            # 30 messages sent to the frozen tab.
            TALK_MAX_UNACKED="20",
            TALK_MAX_UNACKED_BYTES="0",
            TALK_ACK_EVERY="2",
            # A short history, so that coming back needs the resume.
            TALK_HISTORY_SIZE="3",
            TALK_RATE_LIMIT_IP_MESSAGES="0",
        )
    )
    daphne.start()
    yield daphne
    daphne.stop()


def off_loop(fn: Callable[[], T]) -> T:
    """Run `fn` in a thread: Playwright's loop owns this one (async_to_sync)."""

    def run() -> T:
        from django.db import connection

        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def say(room: Any, texts: list[str]) -> None:
    from talk import services

    def store() -> None:
        for text in texts:
            services.chat_message_create(
                room=room, name="보내는이", text=text, session_hash="s", ip_hash="ip"
            )
            # Paced, so that each message is a frame of its own: events that
            # reach the server together go out as one batch frame, and this
            # test counts frames.
            time.sleep(0.02)

    off_loop(store)


def test_a_frozen_tab_is_closed_as_over_capacity_and_resumes(server, browser) -> None:
    from playwright.sync_api import expect

    from talk.models import Room
    from talk.selectors import over_capacity_list

    # A new slug each run: the counts are per room and day, in Redis.
    room = Room.objects.create(slug=f"acks-{uuid.uuid4().hex[:8]}", name="확인 방")
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.goto(f"{server.url}/talk/{room.slug}/")
    page.locator('#talk-state[data-state="connected"]').wait_for()

    # Awake, the tab keeps up: it acknowledges as it goes and stays open.
    first = [f"깨어 있음 {n}" for n in range(20)]
    say(room, first)
    expect(page.locator(".talk-msg .talk-text")).to_have_text(first)
    acks = [json.loads(s) for s in page.evaluate("window.__ws.sent")]
    acks = [a["count"] for a in acks if a["type"] == "ack"]
    assert len(acks) >= 10 and acks == sorted(acks)
    assert page.evaluate("window.__ws.closes") == []

    # Frozen (a busy main thread, as a tab in the background can be), it
    # cannot acknowledge: the server closes it at 20 frames behind.
    page.evaluate(
        "setTimeout(() => { const end = Date.now() + 3000;"
        " while (Date.now() < end) {} }, 0)"
    )
    second = [f"얼어 있음 {n}" for n in range(30)]
    say(room, second)
    expect(page.locator(".talk-msg .talk-text")).to_have_text(
        first + second, timeout=20_000
    )
    assert page.evaluate("window.__ws.closes") == [4408]
    page.locator('#talk-state[data-state="connected"]').wait_for()
    sent = [json.loads(s) for s in page.evaluate("window.__ws.sent")]
    assert any(f["type"] == "resume" for f in sent)  # it came back and resumed

    counts = off_loop(lambda: over_capacity_list(days=1))
    assert [(r, n) for _, r, n in counts if r == room.slug] == [(room.slug, 1)]
    print(
        f"\nbrowser acks: {len(acks)} acks for {len(first)} messages while awake, "
        f"closed 4408 while frozen, resumed with {len(first) + len(second)}/"
        f"{len(first) + len(second)} messages shown once, over-capacity count 1"
    )
    context.close()
