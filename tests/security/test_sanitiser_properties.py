"""Properties of the post pipeline's sanitiser, over generated hostile input.

Hypothesis builds HTML and Markdown from fragments that XSS payloads are made
of; whatever comes out must hold no script element, no event-handler
attribute and no URL with a disallowed scheme, and sanitising again must
change nothing (`sanitiser_checks`, which the atheris fuzz target shares).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.sanitiser_checks import FRAGMENTS, check_render, check_sanitize

hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=12
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_sanitised_html_is_inert_and_sanitising_again_changes_nothing(raw: str) -> None:
    check_sanitize(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_rendered_markdown_is_inert(source: str) -> None:
    check_render(source)
