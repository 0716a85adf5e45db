"""The talk room in Chromium: two visitors chat over a real daphne and Redis."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def room(live_daphne):
    from talk.models import Room

    return Room.objects.create(slug="browser", name="브라우저 방")


def open_room(browser, url: str):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    page = context.new_page()
    page.goto(url)
    page.locator('#talk-state[data-state="connected"]').wait_for()
    return context, page


def test_two_visitors_chat_and_see_each_other_come_and_go(
    live_daphne, browser, room, artifacts_dir
) -> None:
    from playwright.sync_api import expect

    url = f"{live_daphne.url}/talk/{room.slug}/"
    context_a, alice = open_room(browser, url)
    context_b, bob = open_room(browser, url)
    name_a = alice.input_value("#talk-name")
    name_b = bob.input_value("#talk-name")
    assert name_a and name_b and name_a != name_b

    expect(alice.locator(".talk-event")).to_have_text([f"{name_b}님이 입장했습니다."])
    expect(alice.locator("#talk-count")).to_have_text("2")

    alice.fill("#talk-input", "안녕하세요 <b>굵게</b>")
    alice.press("#talk-input", "Enter")
    received = bob.locator(".talk-msg").last
    expect(received.locator(".talk-name")).to_have_text(name_a)
    expect(received.locator(".talk-text")).to_have_text("안녕하세요 <b>굵게</b>")
    assert received.locator("b").count() == 0  # text, never HTML
    assert "talk-msg--mine" not in (received.get_attribute("class") or "")
    expect(alice.locator(".talk-msg--mine .talk-text")).to_have_text(
        "안녕하세요 <b>굵게</b>"
    )
    expect(alice.locator("#talk-input")).to_have_value("")

    bob.fill("#talk-input", "반가워요")
    bob.click("#talk-send")
    expect(alice.locator(".talk-msg").last.locator(".talk-text")).to_have_text(
        "반가워요"
    )
    expect(alice.locator(".talk-msg").last.locator(".talk-name")).to_have_text(name_b)
    alice.screenshot(path=str(artifacts_dir / "talk-desktop.png"))

    context_b.close()
    expect(alice.locator(".talk-event").last).to_have_text(f"{name_b}님이 나갔습니다.")
    expect(alice.locator("#talk-count")).to_have_text("1")
    context_a.close()


def test_the_room_keeps_the_name_and_shows_the_history_after_a_reload(
    live_daphne, page, room
) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_daphne.url}/talk/{room.slug}/")
    page.locator('#talk-state[data-state="connected"]').wait_for()
    name = page.input_value("#talk-name")
    page.fill("#talk-input", "다시 봐요")
    page.press("#talk-input", "Enter")
    expect(page.locator(".talk-msg--mine")).to_have_count(1)
    page.reload()
    page.locator('#talk-state[data-state="connected"]').wait_for()
    assert page.input_value("#talk-name") == name
    expect(page.locator(".talk-msg--mine .talk-text")).to_have_text("다시 봐요")


def test_a_rate_limited_sender_sees_a_notice(live_daphne, page, room) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_daphne.url}/talk/{room.slug}/")
    page.locator('#talk-state[data-state="connected"]').wait_for()
    for n in range(6):
        page.fill("#talk-input", f"빠르게 {n}")
        page.press("#talk-input", "Enter")
    expect(page.locator("#talk-notice")).to_be_visible()
    expect(page.locator("#talk-notice")).to_contain_text("5개까지")


def test_the_room_fits_a_phone_screen(live_daphne, phone_page, room, artifacts_dir):
    phone_page.goto(f"{live_daphne.url}/talk/{room.slug}/")
    phone_page.locator('#talk-state[data-state="connected"]').wait_for()
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    box = phone_page.locator("#talk-send").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
    phone_page.screenshot(path=str(artifacts_dir / "talk-phone.png"))


def test_a_batch_frame_is_shown_frame_by_frame_and_acknowledged_once(
    live_daphne, browser, room
) -> None:
    """The page's socket goes through a relay that turns the server's message
    frame into a batch around it: one frame on the wire, three for the page."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    to_server: list[dict] = []

    def relay(ws) -> None:
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "message":
                join = {"type": "join", "name": "손님", "count": 2}
                count = {"type": "presence", "count": 3}
                message = json.dumps(
                    {"type": "batch", "frames": [join, frame, count]},
                    ensure_ascii=False,
                )
            ws.send(message)

        def from_page(message: str | bytes) -> None:
            to_server.append(json.loads(message))
            server.send(message)

        server.on_message(to_page)
        ws.on_message(from_page)

    context.route_web_socket(re.compile(r"/ws/talk/"), relay)
    page = context.new_page()
    page.goto(f"{live_daphne.url}/talk/{room.slug}/")
    page.locator('#talk-state[data-state="connected"]').wait_for()
    page.fill("#talk-input", "한 번에 셋")
    page.press("#talk-input", "Enter")

    expect(page.locator(".talk-event")).to_have_text(["손님님이 입장했습니다."])
    expect(page.locator(".talk-msg--mine .talk-text")).to_have_text(["한 번에 셋"])
    expect(page.locator("#talk-count")).to_have_text("3")
    # The hello and the batch: two frames, acknowledged as two (the client
    # acks a quiet room after its one-second delay).
    for _ in range(100):
        acks = [f["count"] for f in to_server if f["type"] == "ack"]
        if acks:
            break
        page.wait_for_timeout(100)
    assert acks == [2]
    expect(page.locator("#talk-notice")).to_be_hidden()  # no bad_frame
    context.close()
