from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination
from rest_framework.request import Request


class PageNumberPagination(BasePageNumberPagination):
    """`?page=N&page_size=M` (at most 100), answering count, next and previous."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        """Bad input is a 400: DRF's own would silently use another size."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if (
            not raw.isascii()
            or not raw.isdigit()
            or not 1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {self.page_size_query_param: ["Give a whole number from 1 to 100."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: object) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters
