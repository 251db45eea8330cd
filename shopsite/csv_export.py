"""CSV downloads, streamed: rows come from a cursor/generator and leave in ~64 KB chunks, so an
export of a million rows never sits in memory. UTF-8 with a header row; money as decimal
strings, times ISO 8601 UTC (the row functions of each app format them).

API views opt in with `CSVExportMixin`: `?format=csv` or `Accept: text/csv` selects CSV (DRF
content negotiation with djangorestframework-csv's renderer); errors stay JSON. Dashboard views
call `csv_response` directly.
"""

import itertools
from collections.abc import Iterable, Iterator

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework_csv.renderers import CSVRenderer as _CSVRenderer
from rest_framework_csv.renderers import CSVStreamingRenderer

from .query import QuerySerializer
from .serializing import validated

CHUNK_BYTES = 64 * 1024
CSV_MEDIA_TYPE = "text/csv"


class CSVRenderer(_CSVRenderer):
    """Only for content negotiation (`?format=csv`, `Accept: text/csv`); the body is streamed by
    csv_response, never rendered from a whole list."""

    media_type = CSV_MEDIA_TYPE
    format = "csv"
    charset = "utf-8"


def _chunks(pieces: Iterable[bytes]) -> Iterator[bytes]:
    # One write per row would be one socket send per row: gather them.
    buffer, size = [], 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP "CSV
# injection"): such text cells get a leading apostrophe, which the products import removes again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def csv_stream(rows: Iterable[dict], header: list[str]) -> Iterator[bytes]:
    """The CSV bytes of `rows` (dicts keyed by the header's names), header first."""
    # The renderer streams generators only.
    generator = ({key: neutralise(value) for key, value in row.items()} for row in rows)
    return _chunks(CSVStreamingRenderer().render(generator, renderer_context={"header": header}))


def csv_response(rows: Iterable[dict], *, header: list[str], filename: str):
    """A streamed text/csv attachment. The first row is read before the response starts, so a
    backend that is down gives a 503 (BackendUnavailableMiddleware), not a truncated file; a
    failure later can only cut the download short (the status line has been sent)."""
    rows = iter(rows)
    first = next(rows, None)
    head = [] if first is None else [first]
    response = StreamingHttpResponse(
        csv_stream(itertools.chain(head, rows), header),
        content_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class CSVExportMixin:
    """API views that can answer CSV. `self.wants_csv(request)` after negotiation; error answers
    (400, 401, 403, 404, ...) are JSON whatever the client asked for."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    def get_renderers(self):
        # Downloads are reads: a write answers JSON (or 406 to an Accept that allows only CSV).
        if self.request.method not in ("GET", "HEAD"):
            return [JSONRenderer()]
        return super().get_renderers()

    def perform_content_negotiation(self, request, force=False):
        if not force:  # `force` is DRF's fallback for rendering an error: no raising then
            validated(FormatQuerySerializer, request.query_params)
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=: a bad query parameter is a 400
            formats = [renderer.format for renderer in self.get_renderers()]
            raise ValidationError({"format": [f"Must be one of: {', '.join(formats)}."]})

    def wants_csv(self, request) -> bool:
        return getattr(request.accepted_renderer, "format", None) == "csv"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class FormatQuerySerializer(QuerySerializer):
    format = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        error_messages={"invalid_choice": "Must be one of: json, csv."},
        help_text="`csv` answers a streamed CSV download (UTF-8, header row; same as "
        "`Accept: text/csv`) of every row the filters select: no pagination.",
    )


FORMAT_PARAMETER = FormatQuerySerializer


def csv_schema(columns: list[str] | str, what: str) -> OpenApiResponse:
    if not isinstance(columns, str):
        columns = ", ".join(columns)
    return OpenApiResponse(
        OpenApiTypes.STR,
        description=f"CSV ({what}); columns: {columns}. UTF-8 with a header row; money as "
        "decimal strings, times ISO 8601 UTC.",
    )


def wants_csv_page(request) -> bool:
    """A dashboard page asked for its table as CSV (`?format=csv`, the Download CSV button)."""
    return request.GET.get("format") == "csv"


def csv_link(request, **extra) -> str:
    """The current page's query (its filters) as a CSV download link: `?...&format=csv`."""
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    for key, value in extra.items():
        query[key] = value
    return "?" + query.urlencode()
