from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from sessions_app.permissions import staff_required

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


@require_GET
@staff_required
def dashboard_home(request):
    return render(request, "dashboard/home.html", {"health": check_all()})
