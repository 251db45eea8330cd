"""The home page: today's sales, low stock, the latest events and the operator's view, each
panel read through its app's selectors; an outage of one backend degrades only its panel."""

import logging
from datetime import UTC, date, datetime, time

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog import selectors as catalog_selectors
from eventlog import selectors as event_selectors
from orders import selectors as order_selectors
from sessions_app.permissions import staff_required
from shopsite.errors import backend_of
from shopsite.health import ago, check_all
from shopsite.money import cents_to_str
from shopsite.timeutil import shop_zone, utcnow

logger = logging.getLogger(__name__)

# Rows shown in each list panel of the home page.
HOME_LIST_SIZE = 8


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


def _shop_today(now: datetime) -> tuple[date, datetime]:
    """The shop's today (SHOP_TIME_ZONE) and the UTC moment it began: a day may last 23 or 25
    hours and begin on a half or quarter hour, so its midnight comes from zoneinfo."""
    today = now.astimezone(shop_zone()).date()
    return today, datetime.combine(today, time(0), tzinfo=shop_zone()).astimezone(UTC)


def _today_sales() -> dict:
    now = utcnow()
    today, midnight = _shop_today(now)
    totals = order_selectors.orders_sold_totals(start=midnight, end=None)  # up to now
    latest = [
        {
            "id": str(order["_id"]),
            "customer": order["customer"],
            "total": cents_to_str(order["total_cents"]),
            "total_cents": order["total_cents"],
            "created_at": order["created_at"],
            "status": order_selectors.order_status(order),
        }
        for order in order_selectors.orders_recent(limit=HOME_LIST_SIZE)
    ]
    return {
        "day": today,
        "orders": totals["orders"],
        "units": totals["total_quantity"],
        "revenue": cents_to_str(totals["revenue_cents"]),
        "revenue_cents": totals["revenue_cents"],
        "latest": latest,
        # Placed in the last 30 days and not yet fulfilled nor cancelled.
        "waiting": order_selectors.orders_waiting_count(),
    }


def _low_stock() -> dict:
    threshold = settings.LOW_STOCK_THRESHOLD
    rows, count = catalog_selectors.products_low_stock(threshold=threshold, limit=HOME_LIST_SIZE)
    return {
        "threshold": threshold,
        "count": count,
        "products": [
            {"id": str(d["_id"]), "name": d["name"], "category": d["category"], "stock": d["stock"]}
            for d in rows
        ],
    }


def _latest_events() -> list:
    """The newest events of any type (one events_by_hour partition while the current hour
    holds HOME_LIST_SIZE of them), with their users' names."""
    entries = event_selectors.events_latest(hours=24, limit=HOME_LIST_SIZE)
    names = event_selectors.user_names(e.user_id for e in entries)
    return [{"entry": e, "user_name": names.get(e.user_id)} for e in entries]


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
        # The heading's day, also while the sales panel is down.
        "today": _shop_today(utcnow())[0],
        "sales": _panel(_today_sales, "mongodb", health),
        "low_stock": _panel(_low_stock, "mongodb", health),
        "events": _panel(_latest_events, "cassandra", health),
    }
    return render(request, "dashboard/home.html", context)
