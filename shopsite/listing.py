"""A filtered list endpoint: paginated JSON, or (`?format=csv` / `Accept: text/csv`) every row
the filters select, streamed. The products and orders lists are both this shape."""

from collections.abc import Iterable

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import COMMON_ERRORS, ERROR
from .csv_export import FORMAT_PARAMETER, CSVExportMixin, csv_response, csv_schema
from .pagination import PAGE_PARAMETERS, page_request, paginated, paginated_schema


def list_schema(
    *,
    summary: str,
    description: str,
    operation_id: str,
    query: type[serializers.Serializer],
    page_name: str,
    item: serializers.Serializer,
    csv_header: list[str],
    csv_rows: str,
):
    """extend_schema for a FilteredListApi's GET."""
    return extend_schema(
        summary=summary,
        description=description,
        operation_id=operation_id,
        parameters=[query, *PAGE_PARAMETERS, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): paginated_schema(page_name, item),
            (200, "text/csv"): csv_schema(csv_header, csv_rows),
            404: OpenApiResponse(ERROR, description="Page past the end."),
            **COMMON_ERRORS,
        },
    )


class FilteredListApi(CSVExportMixin, APIView):
    """Subclasses name the query serializer and the CSV file, and read through selectors."""

    query_serializer: type[serializers.Serializer]
    csv_header: list[str]
    csv_filename: str

    def csv_rows(self, filters: dict) -> Iterable[dict]:
        raise NotImplementedError

    def page(self, filters: dict, *, skip: int, limit: int) -> tuple[int, list]:
        """(count of everything the filters select, this page's items serialised)."""
        raise NotImplementedError

    def list(self, request) -> Response:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        # Checked for CSV too (which has every row): a malformed ?page_size= is a 400 either way.
        page = page_request(request)
        if self.wants_csv(request):
            rows = self.csv_rows(filters)
            return csv_response(rows, header=self.csv_header, filename=self.csv_filename)
        count, items = self.page(filters, skip=page.skip, limit=page.page_size)
        return Response(paginated(request, page=page, count=count, fetch=lambda skip, limit: items))
