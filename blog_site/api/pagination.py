from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination


class PageNumberPagination(BasePageNumberPagination):
    """`?page=N&page_size=M` (at most 100), answering count, next and previous."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
