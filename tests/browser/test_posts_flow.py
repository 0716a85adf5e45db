"""An author writes and publishes a post with an image in the admin; a visitor
on a phone reads it. Real daphne, MariaDB, Redis, S3 server and Chromium."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from media_store.models import Image
from posts import services
from tests.posts.conftest import png_bytes
from tests.posts.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "휴대폰에서 읽는 새 글"
PNG_B64 = base64.b64encode(png_bytes("diagram", size=(640, 360), hue=77)).decode()
DROP = """([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  document.getElementById("id_body").dispatchEvent(
    new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer })
  );
}"""


@pytest.fixture
def writer():  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group

    from posts.permissions import groups_ensure

    groups_ensure()
    user = UserFactory(
        username="phone-writer", display_name="모바일 작가", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Authors"))
    return user


def test_author_publishes_in_admin_and_a_phone_visitor_reads_it(
    live_daphne, page, phone_page, writer, artifacts_dir: Path
) -> None:
    category = services.category_create(name="모바일/웹")
    base = live_daphne.url

    # The author signs in and writes the post.
    page.goto(f"{base}/admin/login/?next=/admin/posts/post/add/")
    page.fill("#id_username", writer.username)
    page.fill("#id_password", "pw-for-tests-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/posts/post/add/")
    page.fill("#id_title", TITLE)
    page.select_option("#id_category", label=category.name)
    page.fill(
        "#id_body",
        "## 들어가며\n\n휴대폰 화면에서도 잘 보이는지 확인한다.\n\n"
        "```python\nprint('안녕')\n```\n",
    )
    # The live preview renders the Markdown while the author types.
    page.wait_for_selector("[data-post-preview] h2#들어가며")
    # Dropping a picture on the body uploads it and inserts its reference.
    page.eval_on_selector("#id_body", "el => el.setSelectionRange(0, 0)")
    page.evaluate(DROP, [PNG_B64, "흐름도.png"])
    page.wait_for_function(
        "() => /\\/images\\/[0-9a-f-]{36}/"
        ".test(document.getElementById('id_body').value)"
    )
    image = Image.objects.get()
    assert image.uploader == writer and image.alt == "흐름도"
    page.wait_for_selector(f'[data-post-preview] img[src="/images/{image.pk}"]')
    page.fill("#id_thumbnail", str(image.pk))
    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/posts/post/")
    assert TITLE in page.content()

    # A visitor on a phone finds it on the home page and opens it.
    response = phone_page.goto(f"{base}/")
    assert response is not None and response.status == 200
    phone_page.screenshot(path=str(artifacts_dir / "posts-phone-home.png"))
    phone_page.click(f"text={TITLE}")
    phone_page.wait_for_selector("h1.post-title")
    assert phone_page.inner_text("h1.post-title") == TITLE
    assert phone_page.inner_text(".post-category") == "모바일/웹"
    assert "/posts/" in phone_page.url
    body_image = phone_page.locator(f'.post-body img[src="/images/{image.pk}"]')
    body_image.scroll_into_view_if_needed()
    phone_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=body_image.element_handle()
    )
    # Nothing overflows the phone's width (mobile-first layout).
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.screenshot(
        path=str(artifacts_dir / "posts-phone-post.png"), full_page=True
    )
