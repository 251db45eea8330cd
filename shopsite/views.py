"""The base's own endpoint: /healthz (the home page lives in dashboard/)."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from .health import check_all

_backend = inline_serializer(
    "BackendHealth",
    {
        "ok": serializers.BooleanField(),
        "latency_ms": serializers.FloatField(allow_null=True),
        "error": serializers.CharField(required=False),
    },
)


@extend_schema(
    summary="Health of every backend",
    responses={
        (200, "application/json"): inline_serializer(
            "Health",
            {
                "status": serializers.ChoiceField(["ok", "degraded"]),
                "mongodb": _backend,
                "redis": _backend,
                "cassandra": _backend,
                "outbox": inline_serializer(
                    "OutboxHealth",
                    {
                        "ok": serializers.BooleanField(),
                        "latency_ms": serializers.FloatField(allow_null=True),
                        "pending": serializers.IntegerField(allow_null=True),
                        "ceiling": serializers.IntegerField(),
                        "spool_files": serializers.IntegerField(),
                        "error": serializers.CharField(
                            required=False, help_text="Why not ok (e.g. at the ceiling)."
                        ),
                        "oldest_age_seconds": serializers.FloatField(
                            allow_null=True, required=False, help_text="Oldest waiting event."
                        ),
                        "worker_last_seen": serializers.DateTimeField(
                            allow_null=True, required=False, help_text="Event worker's heartbeat."
                        ),
                        "worker_age_seconds": serializers.FloatField(
                            allow_null=True, required=False
                        ),
                    },
                ),
                "backup": inline_serializer(
                    "BackupHealth",
                    {
                        "newest_good": serializers.CharField(allow_null=True),
                        "created_at": serializers.DateTimeField(required=False),
                        "age_seconds": serializers.IntegerField(allow_null=True),
                        "error": serializers.CharField(required=False),
                    },
                ),
                "warnings": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="What an operator should look at (outbox older than "
                    "OPS_OUTBOX_MAX_AGE_SECONDS, worker silent for OPS_WORKER_SILENT_SECONDS, "
                    "newest good backup older than OPS_BACKUP_MAX_AGE_SECONDS); they do not "
                    "change the status.",
                ),
            },
        ),
        (503, "application/json"): None,
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def healthz(request):
    report = check_all()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
