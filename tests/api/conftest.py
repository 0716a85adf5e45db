"""Users in the Authors/Editors groups for API tests (shared with tests/posts)."""

from tests.posts.conftest import (  # noqa: F401 - fixtures re-exported
    author,
    editor,
    groups,
    other_author,
)
