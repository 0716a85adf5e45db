"""The public site in real Chromium: accessibility (axe-core), screenshots, scripts.

axe-core 4.12 comes with the pinned axe-playwright-python. Pages are checked
in light and dark (the system preference, which the theme follows unless the
visitor toggled it) on a phone-sized and a desktop viewport.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.site.conftest import SiteSample, build_site_sample

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
THEMES = ("light", "dark")


@pytest.fixture
def sample(live_daphne: Any, clear_cache: None) -> SiteSample:
    # clear_cache: the chat room is looked up through the shared cache, and
    # the previous test's rows are gone.
    return build_site_sample()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(viewport: str, theme: str, locale: str = "ko-KR") -> Any:
        context = browser.new_context(
            **VIEWPORTS[viewport],
            color_scheme=theme,
            locale=locale,
            timezone_id="Asia/Seoul",
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _pages(sample: SiteSample) -> dict[str, str]:
    return {
        "home": "/",
        "post": sample.post.get_absolute_url(),
        "category": sample.post.category.get_absolute_url(),
        "chat": "/talk/",
    }


def _settle(page: Any, name: str) -> None:
    if name == "chat":
        page.locator('#talk-state[data-state="connected"]').wait_for()
    page.evaluate("document.fonts.ready.then(() => true)")


def test_pages_have_no_serious_accessibility_violations_in_either_theme(
    live_daphne: Any, sample: SiteSample, open_page: Any
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found: list[str] = []
    checked = 0
    for theme in THEMES:
        for viewport in VIEWPORTS:
            page = open_page(viewport, theme)
            for name, path in _pages(sample).items():
                page.goto(live_daphne.url + path)
                _settle(page, name)
                results = axe.run(page)
                checked += 1
                for violation in results.response["violations"]:
                    if violation["impact"] in ("serious", "critical"):
                        targets = [n["target"] for n in violation["nodes"]][:3]
                        found.append(
                            f"{theme}/{viewport} {name}: {violation['id']} {targets}"
                        )
                print(
                    f"axe {theme}/{viewport} {name}: {results.violations_count} total"
                )
    assert checked == 16
    assert found == []


def test_screenshots_phone_and_desktop_light_and_dark(
    live_daphne: Any, sample: SiteSample, open_page: Any, artifacts_dir: Any
) -> None:
    out = artifacts_dir / "site"
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for theme in THEMES:
        for viewport in VIEWPORTS:
            page = open_page(viewport, theme)
            for name, path in _pages(sample).items():
                if name == "category":
                    continue
                page.goto(live_daphne.url + path)
                _settle(page, name)
                background = page.evaluate(
                    "getComputedStyle(document.body).backgroundColor"
                )
                assert background == (
                    "rgb(255, 255, 255)" if theme == "light" else "rgb(22, 24, 29)"
                )
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth"
                    " - document.documentElement.clientWidth"
                )
                assert overflow <= 0, f"{name} scrolls sideways on {viewport}"
                target = out / f"{name}-{viewport}-{theme}.png"
                page.screenshot(path=str(target))
                shots.append(target)
    assert len(shots) == 12 and all(p.stat().st_size > 5000 for p in shots)


def test_web_font_loads_only_the_subsets_the_page_needs(
    live_daphne: Any, sample: SiteSample, open_page: Any
) -> None:
    page = open_page("phone", "light")
    fonts: list[str] = []
    page.on(
        "requestfinished",
        lambda request: fonts.append(request.url) if ".woff2" in request.url else None,
    )
    page.goto(live_daphne.url + sample.post.get_absolute_url())
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    assert fonts, "the web font was not used"
    assert all(url.startswith(live_daphne.url + "/static/fonts/") for url in fonts)
    assert len(fonts) < 40  # of 92 subsets
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Pretendard Variable"')
    assert page.evaluate("document.fonts.check('16px \"Pretendard Variable\"', '한글')")


def test_code_blocks_get_a_copy_button_and_headings_an_anchor(
    live_daphne: Any, sample: SiteSample, open_page: Any
) -> None:
    page = open_page("phone", "light")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(live_daphne.url + sample.post.get_absolute_url())
    button = page.locator(".code-block .code-copy")
    assert button.count() == 1 and button.inner_text() == "복사"
    button.click()
    expect(button).to_have_text("복사됨")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == "pip install bdg-blog  # 한글 주석"
    anchor = page.locator(".post-body h2 .heading-anchor")
    assert anchor.get_attribute("href") == "#%EC%84%A4%EC%B9%98"  # #설치
    # A long code line scrolls inside its block, never the page.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_language_switcher_changes_the_ui_language_on_a_cached_page(
    live_daphne: Any, sample: SiteSample, open_page: Any
) -> None:
    page = open_page("desktop", "light")
    page.goto(live_daphne.url + "/talk/")  # fills the page cache in Korean
    assert page.locator("html").get_attribute("lang") == "ko"
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == live_daphne.url + "/talk/"
    assert page.locator("#talk-send").inner_text() == "Send"
    page.select_option("#language-select", "ko")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert page.locator("#talk-send").inner_text() == "보내기"
