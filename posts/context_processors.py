from django.http import HttpRequest

from posts import selectors
from posts.cache import content_version


def nav(request: HttpRequest) -> dict[str, object]:
    """Header categories, passed as a callable so pages that don't show them
    (the admin) never run the query; keyed on the content version the request
    has already read."""
    return {
        "nav_categories": lambda: selectors.category_nav(
            version=content_version(request)
        )
    }
