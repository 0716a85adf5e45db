import pytest

pytestmark = pytest.mark.browser


def test_home_page_loads_in_chromium_with_the_site_title(live_daphne, page) -> None:
    response = page.goto(live_daphne.url + "/")
    assert response is not None and response.status == 200
    assert "bdg.blog" in page.title()
