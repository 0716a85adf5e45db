"""`{% url %}` for every Django template, remembering the URLs it reversed.

Django's tag runs `reverse()` on every render, and a public page has a dozen
of them that give the same address each time (feeds, search, sitemap, the
language form...): in a py-spy profile of the uncached post page under load,
`reverse()` took about a seventh of the process's CPU (issue 8). A URL
depends only on the arguments, the app namespace, the URLconf and script
prefix in force and the language (`i18n_patterns`); with all of them in the
key, the remembered URL is the one `reverse()` gives. Loaded as a template
builtin (settings `TEMPLATES` `builtins`), so it replaces Django's tag in
every template, the admin's too, with no `{% load %}`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()


@lru_cache(maxsize=4096)
def _reversed(
    view_name: str,
    args: tuple[str | int, ...],
    kwargs: tuple[tuple[str, str | int], ...],
    current_app: str | None,
    # Not passed on: they key the result on what reverse() reads itself.
    urlconf: Any,
    script_prefix: str,
    language: str | None,
) -> str:
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


def _plain(value: Any) -> bool:
    # Model instances and other objects reverse through str(), which may
    # change with their state; only plain values are safe as a key (strings,
    # template literals included, and integers but not True, equal to 1).
    return isinstance(value, str | int) and not isinstance(value, bool)


class RememberingURLNode(URLNode):
    """Django's URLNode, with `reverse()` answered from `_reversed`."""

    def render(self, context: template.Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            if (
                isinstance(view_name, str)
                and all(map(_plain, args))
                and all(map(_plain, kwargs.values()))
            ):
                url = _reversed(
                    view_name,
                    tuple(args),
                    tuple(sorted(kwargs.items())),
                    current_app,
                    # None means the setting, which tests may override.
                    get_urlconf() or settings.ROOT_URLCONF,
                    get_script_prefix(),
                    get_language(),
                )
            else:
                url = reverse(
                    view_name, args=args, kwargs=kwargs, current_app=current_app
                )
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> URLNode:
    """Django's `{% url %}` (same syntax), remembering its results."""
    node = django_url(parser, token)
    return RememberingURLNode(node.view_name, node.args, node.kwargs, node.asvar)
