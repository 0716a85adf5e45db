"""markdown-upload.js in Chromium: paste and drop images into a textarea."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from accounts.models import User
from media_store.models import Image
from tests.media_store.conftest import image_bytes

pytestmark = pytest.mark.browser

PNG_B64 = base64.b64encode(image_bytes("PNG", (48, 24))).decode()

SETUP = """([uploadUrl, directUrl, format]) => {
  const area = document.createElement("textarea");
  area.id = "body";
  area.value = "Before\\n";
  area.dataset.imageUploadUrl = uploadUrl;
  if (directUrl) area.dataset.imageDirectUrl = directUrl;
  if (format) area.dataset.imageUploadFormat = format;
  document.body.prepend(area);
  area.focus();
  area.setSelectionRange(area.value.length, area.value.length);
}"""

SEND = """([kind, b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const file = new File([bytes], name, { type: "image/png" });
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const area = document.getElementById("body");
  const init = { bubbles: true, cancelable: true };
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { ...init, clipboardData: transfer })
    : new DragEvent("drop", { ...init, dataTransfer: transfer });
  area.dispatchEvent(event);
}"""


def staff_page(page: Any, live_daphne: Any, **textarea: str | None) -> None:
    User.objects.create_superuser(
        username="boss", email="boss@example.com", password="pw-boss-12345"
    )
    page.goto(live_daphne.url + "/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-12345")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.add_script_tag(url=live_daphne.url + "/static/media_store/markdown-upload.js")
    page.evaluate(
        SETUP,
        [
            "/media-admin/images/upload",
            textarea.get("direct"),
            textarea.get("format"),
        ],
    )


def wait_for_image(page: Any) -> str:
    page.wait_for_function(
        "() => /\\/images\\/[0-9a-f-]{36}/.test(document.getElementById('body').value)"
    )
    return page.eval_on_selector("#body", "el => el.value")


def test_pasting_an_image_uploads_it_and_inserts_markdown_at_the_cursor(
    live_daphne: Any, page: Any
) -> None:
    staff_page(page, live_daphne)

    page.evaluate(SEND, ["paste", PNG_B64, "system-diagram.png"])
    value = wait_for_image(page)

    image = Image.objects.get()
    assert value == f"Before\n![system diagram](/images/{image.pk})\n"
    assert (image.width, image.height, image.alt) == (48, 24, "system diagram")


def test_dropping_an_image_uses_the_direct_bucket_upload_and_can_insert_html(
    live_daphne: Any, page: Any
) -> None:
    staff_page(page, live_daphne, direct="/media-admin/images/direct", format="html")

    page.evaluate(SEND, ["drop", PNG_B64, "image.png"])
    value = wait_for_image(page)

    image = Image.objects.get()
    assert value == f'Before\n<img alt="" src="/images/{image.pk}"/>\n'
    assert image.file.name == f"images/{image.pk}/original"


def test_a_rejected_file_leaves_the_text_alone_and_shows_the_reason(
    live_daphne: Any, page: Any
) -> None:
    staff_page(page, live_daphne)
    not_png = base64.b64encode(b"<svg><script>alert(1)</script></svg>").decode()

    page.evaluate(SEND, ["paste", not_png, "evil.png"])
    page.wait_for_function(
        # The page is Korean (the browser's locale), and so is the reason.
        "() => /JPEG, PNG, GIF, WebP 이미지가 아닙니다/.test("
        "(document.querySelector('.image-upload-status') || {}).textContent)"
    )

    assert page.eval_on_selector("#body", "el => el.value") == "Before\n"
    assert not Image.objects.exists()


def test_admin_add_form_previews_the_chosen_file_before_upload(
    live_daphne: Any, page: Any, tmp_path: Any
) -> None:
    staff_page(page, live_daphne)
    picture = tmp_path / "chart.png"
    picture.write_bytes(image_bytes("PNG", (48, 24)))

    page.goto(live_daphne.url + "/admin/media_store/image/add/")
    page.set_input_files("input[name=upload]", str(picture))
    page.wait_for_selector("img.media-upload-preview[src^='blob:']")
    page.fill("#id_alt", "Chart")
    page.click("input[name=_continue]")
    page.wait_for_url(re.compile(r"/change/$"))

    image = Image.objects.get()
    assert image.alt == "Chart"
    assert page.input_value(f"#markdown-{image.pk}") == f"![Chart](/images/{image.pk})"
    page.wait_for_function("() => document.querySelector('img.media-preview').complete")
    # Loaded through /images/<uuid>?w=960 and the presigned S3 redirect.
    assert page.eval_on_selector("img.media-preview", "el => el.naturalWidth") == 48
