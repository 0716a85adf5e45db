"""{% responsive_image %}: intrinsic size, lazy loading, srcset from renditions."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from media_store import services
from tests.media_store.conftest import image_bytes

pytestmark = pytest.mark.django_db


def render(source: str, **context: object) -> str:
    return Template("{% load media %}" + source).render(Context(context))


def test_image_with_renditions_gets_a_picture_with_webp_and_original_srcsets() -> None:
    image = services.image_create(file=image_bytes("JPEG", (1200, 600)), alt="A <b>")

    html = render(
        '{% responsive_image image sizes="(min-width: 60rem) 40rem, 100vw" %}',
        image=image,
    )

    url = f"/images/{image.pk}"
    assert html.startswith('<picture><source type="image/webp" ')
    assert (
        f'srcset="{url}?w=480&amp;fm=webp 480w, {url}?w=960&amp;fm=webp 960w, '
        f'{url} 1200w"' in html
    )
    assert f'srcset="{url}?w=480 480w, {url}?w=960 960w, {url} 1200w"' in html
    assert html.count('sizes="(min-width: 60rem) 40rem, 100vw"') == 2
    assert 'width="1200" height="600"' in html
    assert 'alt="A &lt;b&gt;"' in html
    assert 'loading="lazy"' in html


def test_small_image_is_a_plain_lazy_img() -> None:
    image = services.image_create(file=image_bytes("PNG", (300, 200)), alt="icon")

    html = render(
        '{% responsive_image image css_class="thumb" eager=True %}', image=image
    )

    assert html.startswith("<img ")
    assert "srcset" not in html
    assert 'class="thumb"' in html
    assert 'loading="eager"' in html
    assert 'fetchpriority="high"' in html
    assert 'width="300" height="200"' in html


def test_no_image_renders_nothing() -> None:
    assert render("{% responsive_image image %}", image=None) == ""
