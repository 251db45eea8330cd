"""Staff dashboard pages for orders (the Sales page lives in stats_views.py)."""

import hashlib
import json
import uuid

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from catalog import selectors as catalog_selectors
from catalog.exceptions import StockConflict, StockLockBusy
from sessions_app.permissions import staff_required
from shopsite.csv_export import csv_link, csv_response, wants_csv_page
from shopsite.pagination import page_of

from . import selectors, services
from .exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    OrderNotFound,
    OrderRejected,
    PurchaseAborted,
)
from .exports import ORDER_ITEM_HEADER, order_item_rows
from .forms import OrderFilterForm, PlaceOrderForm

PAGE_SIZE = 50
LAST_DAYS = 30


def _row(doc: dict) -> dict:
    return {**doc, "id": str(doc["_id"])}


@require_http_methods(["GET"])
@staff_required
def orders_recent(request):
    docs = selectors.orders_recent(limit=100)
    return render(request, "orders/order_recent.html", {"orders": [_row(d) for d in docs]})


@require_http_methods(["GET"])
@staff_required
def orders_last_days(request):
    form = OrderFilterForm(request.GET or None)
    customer = None
    if form.is_bound and form.is_valid():
        customer = form.cleaned_data["customer"] or None
    if wants_csv_page(request):
        rows = order_item_rows(selectors.orders_iter_since(days=LAST_DAYS, customer=customer))
        return csv_response(rows, header=ORDER_ITEM_HEADER, filename="orders.csv")
    page = page_of(
        request,
        count=selectors.orders_count_since(days=LAST_DAYS, customer=customer),
        fetch=lambda skip, limit: selectors.orders_list_since(
            days=LAST_DAYS, customer=customer, skip=skip, limit=limit
        ),
        page_size=PAGE_SIZE,
    )
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form if form.is_bound else OrderFilterForm(),
            "orders": [_row(d) for d in page.pop("items")],
            "days": LAST_DAYS,
            "customer": customer,
            "csv_url": csv_link(request),
            **page,
        },
    )


@require_http_methods(["GET"])
@staff_required
def order_detail(request, order_id):
    try:
        doc = selectors.order_get(order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.")
    return render(request, "orders/order_detail.html", {"order": _row(doc)})


@require_http_methods(["GET", "POST"])
@staff_required
def order_place(request):
    products = catalog_selectors.products_orderable(limit=500)
    form = PlaceOrderForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        items = [dict(item) for item in form.validated["items"]]
        order = {"customer": form.validated["customer"], "items": items, "created_at": None}
        key = form.cleaned_data.get("idempotency_key") or uuid.uuid4().hex
        try:
            try:
                docs, _ = services.orders_place_once(
                    orders=[order],
                    bulk=False,
                    user_id=request.user.pk,
                    key=key,
                    fingerprint=order_fingerprint(order),
                )
            except IdempotencyKeyInUse:
                # The same form submitted twice: wait for the first submission's order.
                docs = services.wait_for_idempotent(user_id=request.user.pk, key=key)
                if not docs:
                    raise
        except OrderRejected as exc:
            form.add_item_errors(exc.errors)
        except StockConflict as exc:
            form.add_stock_error(exc.product_id, exc.available)
        except (StockLockBusy, PurchaseAborted, IdempotencyKeyInUse) as exc:
            form.add_error(None, str(exc))
        except IdempotencyKeyReused:
            form.add_error(
                None, "This form was already used for another order: reload it to start anew."
            )
        else:
            messages.success(request, f"Order placed for {docs[0]['customer']}.")
            return redirect("dashboard-order-detail", order_id=str(docs[0]["_id"]))
    return render(request, "orders/order_form.html", {"form": form})


def order_fingerprint(order: dict) -> str:
    canonical = json.dumps(order, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
