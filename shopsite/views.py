import logging
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from catalog import repository as catalog_repository
from eventlog import services as event_services
from eventlog.manager import get_log_manager
from orders import selectors as order_selectors
from orders import stats
from sessions_app.permissions import staff_required

from .errors import backend_of
from .health import ago, check_all
from .money import cents_to_str
from .timeutil import utcnow

logger = logging.getLogger(__name__)

# Rows shown in each list panel of the home page.
HOME_LIST_SIZE = 8

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


def _panel(load, backend: str, health: dict) -> dict:
    """Run one home-page panel's query; an outage of its backend degrades only that panel.
    A backend the health check just found down is not asked again (each try costs a timeout)."""
    if not health[backend]["ok"]:
        return {"ok": False, "backend": backend}
    try:
        return {"ok": True, "data": load()}
    except Exception as exc:
        backend = backend_of(exc)
        if backend is None:
            raise
        logger.warning("home panel: %s unavailable (%s)", backend, type(exc).__name__)
        return {"ok": False, "backend": backend}


def _today_sales() -> dict:
    now = utcnow()
    midnight = datetime.combine(now.date(), time(0), tzinfo=UTC)
    totals = stats.sold_totals(midnight, now + timedelta(milliseconds=1))
    latest = [
        {
            "id": str(order["_id"]),
            "customer": order["customer"],
            "total": cents_to_str(order["total_cents"]),
            "created_at": order["created_at"],
        }
        for order in order_selectors.orders_recent(limit=HOME_LIST_SIZE)
    ]
    return {
        "day": midnight.date(),
        "orders": totals["orders"],
        "units": totals["total_quantity"],
        "revenue": cents_to_str(totals["revenue_cents"]),
        "latest": latest,
    }


def _low_stock() -> dict:
    # catalog has no low-stock selector: build the query and run it through its repository.
    threshold = settings.LOW_STOCK_THRESHOLD
    query = {"available": True, "stock": {"$lte": threshold}}
    rows = catalog_repository.find_page(query, skip=0, limit=HOME_LIST_SIZE)
    rows.sort(key=lambda doc: (doc["stock"], doc["name"]))
    return {
        "threshold": threshold,
        "count": catalog_repository.count(query),
        "products": [
            {"id": str(d["_id"]), "name": d["name"], "category": d["category"], "stock": d["stock"]}
            for d in rows
        ],
    }


def _latest_events() -> list:
    entries = []
    for event_type in get_log_manager().event_types(days=1):
        entries.extend(
            event_services.log_recent(event_type=event_type, hours=24, limit=HOME_LIST_SIZE)
        )
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    return entries[:HOME_LIST_SIZE]


@require_GET
@staff_required
def dashboard_home(request):
    health = check_all()
    context = {
        "health": health,
        "backends": {k: v for k, v in health.items() if isinstance(v, dict) and "ok" in v},
        "ops": {
            "outbox_oldest": ago(health["outbox"].get("oldest_age_seconds")),
            "worker_seen": ago(health["outbox"].get("worker_age_seconds")),
            "backup_age": ago(health["backup"].get("age_seconds")),
        },
        "sales": _panel(_today_sales, "mongodb", health),
        "low_stock": _panel(_low_stock, "mongodb", health),
        "events": _panel(_latest_events, "cassandra", health),
    }
    return render(request, "dashboard/home.html", context)
