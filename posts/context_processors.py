from django.http import HttpRequest

from posts import selectors


def nav(request: HttpRequest) -> dict[str, object]:
    """Header categories, passed as a callable so pages that don't show them
    (the admin) never run the query."""
    return {"nav_categories": selectors.category_nav}
