"""`{% url %}` remembers what it reversed, and never gives a stale address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.template import engines
from django.urls import (
    NoReverseMatch,
    clear_script_prefix,
    reverse,
    set_script_prefix,
    set_urlconf,
)
from django.utils import translation

from blog_site.template_urls import RememberingURLNode, _reversed


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    _reversed.cache_clear()
    yield
    _reversed.cache_clear()
    set_urlconf(None)
    clear_script_prefix()
    set_script_prefix("/")


def test_every_template_gets_the_remembering_tag_without_a_load() -> None:
    template = engines["django"].from_string("{% url 'posts:home' %}")
    assert isinstance(template.template.nodelist[0], RememberingURLNode)


def test_the_tag_gives_what_reverse_gives_and_reverses_once() -> None:
    source = "{% url 'posts:tag' slug %} {% url 'posts:search' %}"
    expected = f"{reverse('posts:tag', args=['쿠버네티스'])} {reverse('posts:search')}"
    for _ in range(3):
        assert render(source, slug="쿠버네티스") == expected
    info = _reversed.cache_info()
    assert (info.misses, info.hits) == (2, 4)


def test_another_argument_gives_another_address() -> None:
    source = "{% url 'posts:tag' slug %}"
    assert render(source, slug="k3s") == reverse("posts:tag", args=["k3s"])
    assert render(source, slug="mariadb") == reverse("posts:tag", args=["mariadb"])


def test_a_script_prefix_or_urlconf_in_force_is_part_of_the_address() -> None:
    source = "{% url 'posts:search' %}"
    plain = render(source)
    set_script_prefix("/blog/")
    assert render(source) == "/blog" + plain
    clear_script_prefix()
    set_script_prefix("/")
    set_urlconf("tests.blog_site.page_cache_urls")
    with pytest.raises(NoReverseMatch):
        render(source)
    set_urlconf(None)
    assert render(source) == plain


def test_an_overridden_root_urlconf_is_part_of_the_address(settings) -> None:
    source = "{% url 'posts:search' %}"
    plain = render(source)
    settings.ROOT_URLCONF = "tests.blog_site.page_cache_urls"
    with pytest.raises(NoReverseMatch):
        render(source)
    settings.ROOT_URLCONF = "blog_site.urls"
    assert render(source) == plain


def test_the_language_is_part_of_the_key() -> None:
    source = "{% url 'posts:search' %}"
    for language in ("ko", "en"):
        with translation.override(language):
            render(source)
    assert _reversed.cache_info().misses == 2


def test_a_name_that_does_not_reverse_raises_or_gives_nothing_with_as() -> None:
    with pytest.raises(NoReverseMatch):
        render("{% url 'posts:no-such-page' %}")
    assert render("{% url 'posts:no-such-page' as link %}[{{ link }}]") == "[]"


def test_an_object_argument_is_reversed_each_time() -> None:
    class Slug:
        def __init__(self, text: str) -> None:
            self.text = text

        def __str__(self) -> str:
            return self.text

    slug = Slug("a")
    assert render("{% url 'posts:tag' slug %}", slug=slug) == reverse(
        "posts:tag", args=["a"]
    )
    slug.text = "b"
    assert render("{% url 'posts:tag' slug %}", slug=slug) == reverse(
        "posts:tag", args=["b"]
    )
    assert _reversed.cache_info().currsize == 0


def test_true_and_1_are_different_arguments() -> None:
    source = "{% url 'posts:tag' slug %}"
    assert render(source, slug=1) == reverse("posts:tag", args=[1])
    assert render(source, slug=True) == reverse("posts:tag", args=[True])
