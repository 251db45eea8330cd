"""Event-log API: /logs/ (thin: validate, call services, render)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app.permissions import IsAdmin
from shopsite.api import ERROR, VALIDATION_ERROR

from . import services
from .exceptions import LogEntryNotFound
from .serializers import (
    LogCreateSerializer,
    LogEntrySerializer,
    LogQuerySerializer,
    LogUpdateSerializer,
    PurgeQuerySerializer,
    PurgeResultSerializer,
)

_ERROR = VALIDATION_ERROR
_DETAIL = ERROR
_UNAVAILABLE = OpenApiResponse(_DETAIL, description='Cassandra is down: "cassandra unavailable".')
_EVENT_ID = OpenApiParameter(
    "event_id", str, OpenApiParameter.PATH, description="The entry's UUID."
)


class LogListCreateView(APIView):
    @extend_schema(
        summary="Entries of one type in the last N hours, newest first",
        description="A plain list (not paginated), at most `limit` entries. Reads only the "
        "Cassandra day buckets the window touches.",
        parameters=[LogQuerySerializer],
        responses={
            200: LogEntrySerializer(many=True),
            400: OpenApiResponse(_ERROR, description="Missing or bad event_type, hours or limit."),
            503: _UNAVAILABLE,
        },
    )
    def get(self, request):
        query = LogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = services.log_recent(**query.validated_data)
        return Response([entry.as_dict() for entry in entries])

    @extend_schema(
        summary="Write a log entry",
        description="Stored in Cassandra before the response; the server sets `event_id` and "
        "`timestamp`.",
        request=LogCreateSerializer,
        responses={
            201: LogEntrySerializer,
            400: OpenApiResponse(_ERROR, description="Bad user_id, event_type or metadata."),
            503: _UNAVAILABLE,
        },
    )
    def post(self, request):
        body = LogCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = services.log_create(**body.validated_data)
        return Response(entry.as_dict(), status=status.HTTP_201_CREATED)


class LogDetailView(APIView):
    @extend_schema(
        summary="One log entry",
        parameters=[_EVENT_ID],
        responses={
            200: LogEntrySerializer,
            404: OpenApiResponse(_DETAIL, description="Unknown id, or not a UUID."),
            503: _UNAVAILABLE,
        },
    )
    def get(self, request, event_id):
        return Response(services.log_get(event_id=event_id).as_dict())

    @extend_schema(
        summary="Replace a log entry's metadata",
        parameters=[_EVENT_ID],
        request=LogUpdateSerializer,
        responses={
            200: LogEntrySerializer,
            400: OpenApiResponse(_ERROR, description="metadata missing, not a string or too long."),
            404: OpenApiResponse(_DETAIL, description="Unknown id, or not a UUID."),
            503: _UNAVAILABLE,
        },
    )
    def put(self, request, event_id):
        if services.parse_event_id(event_id) is None:
            raise LogEntryNotFound()  # 404 before 400 for a malformed id
        body = LogUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = services.log_update_metadata(event_id=event_id, **body.validated_data)
        return Response(entry.as_dict())


class LogPurgeView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        summary="Delete entries older than N days (admin)",
        description="Deletes whole old day buckets and the older part of the cutoff's day; "
        "returns how many entries were deleted.",
        parameters=[PurgeQuerySerializer],
        responses={
            200: PurgeResultSerializer,
            400: OpenApiResponse(_ERROR, description="days is not an integer >= 1."),
            403: OpenApiResponse(_DETAIL, description="Not an admin."),
            503: _UNAVAILABLE,
        },
    )
    def delete(self, request):
        query = PurgeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deleted = services.log_delete_older_than(user_id=request.user.pk, **query.validated_data)
        return Response({"deleted": deleted})
