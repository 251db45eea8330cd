"""Staff dashboard pages for orders (the Sales page lives in stats_views.py)."""

import hashlib
import json
import uuid
from types import SimpleNamespace

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from catalog import selectors as catalog_selectors
from catalog.exceptions import StockConflict, StockLockBusy
from sessions_app.permissions import staff_required
from shopsite.api import BusyError
from shopsite.csv_export import csv_link, csv_response, wants_csv_page
from shopsite.pagination import page_of

from . import selectors, services
from .exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    OrderNotFound,
    OrderRejected,
    OrderStatusConflict,
    PurchaseAborted,
)
from .exports import ORDER_ITEM_HEADER, order_item_rows
from .forms import STATUS_CHOICES, CancelOrderForm, OrderFilterForm, PlaceOrderForm

PAGE_SIZE = 50
LAST_DAYS = 30


# The badge of each status (static/shopsite/app.css): what waits, what is done, what is undone.
STATUS_BADGES = {"placed": "warn", "fulfilled": "ok", "cancelled": "failed"}


def _row(doc: dict) -> dict:
    status = selectors.order_status(doc)
    return {**doc, "id": str(doc["_id"]), "status": status, "badge": STATUS_BADGES[status]}


def _status_links(request, current: str | None) -> list[dict]:
    """One link per status filter of the orders list, the other filters kept."""
    links = []
    for value, label in STATUS_CHOICES:
        params = request.GET.copy()
        params.pop("page", None)
        params.pop("status", None)
        if value:
            params["status"] = value
        query = params.urlencode()
        current_match = value == (current or "")
        links.append({"label": label, "url": f"?{query}", "current": current_match})
    return links


@require_http_methods(["GET"])
@staff_required
def orders_recent(request):
    docs = selectors.orders_recent(limit=100)
    return render(request, "orders/order_recent.html", {"orders": [_row(d) for d in docs]})


@require_http_methods(["GET"])
@staff_required
def orders_last_days(request):
    form = OrderFilterForm(request.GET or None)
    customer = status = None
    if form.is_bound and form.is_valid():
        customer = form.cleaned_data["customer"] or None
        status = form.cleaned_data["status"] or None
    filters = {"days": LAST_DAYS, "customer": customer, "status": status}
    sort = request.GET.get("sort") or selectors.ORDER_SORT_DEFAULT
    try:
        selectors.order_sort_check(sort)
    except ValueError as exc:
        return HttpResponseBadRequest(f"sort: {exc}.")
    if wants_csv_page(request):  # the rows as the page orders them
        rows = order_item_rows(selectors.orders_iter_since(**filters, sort=sort))
        return csv_response(rows, header=ORDER_ITEM_HEADER, filename="orders.csv")
    if sort == selectors.ORDER_SORT_DEFAULT:  # the walk: about a page's reads
        count = selectors.orders_count_since(**filters)

        def fetch(skip, limit):
            return selectors.orders_list_since(**filters, skip=skip, limit=limit)

    else:  # reads the window (selectors.orders_sorted_since)
        count, fetch = selectors.orders_sorted_since(**filters, sort=sort)
    page = page_of(request, count=count, fetch=fetch, page_size=PAGE_SIZE)
    return render(
        request,
        "orders/order_list.html",
        {
            "form": form if form.is_bound else OrderFilterForm(),
            "orders": [_row(d) for d in page.pop("items")],
            "days": LAST_DAYS,
            "customer": customer,
            "status": status,
            "status_links": _status_links(request, status),
            "csv_url": csv_link(request),
            "sort_view": _sort_view(request, sort),
            **page,
        },
    )


def _sort_view(request, sort: str):
    """The request as the sort headers see it: the default order written out, so that its
    column shows its direction too (the headers read `request.GET`)."""
    query = request.GET.copy()
    query["sort"] = sort
    return SimpleNamespace(GET=query)


@require_http_methods(["GET"])
@staff_required
def order_detail(request, order_id):
    try:
        doc = selectors.order_get(order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.")
    return render(request, "orders/order_detail.html", {"order": _row(doc)})


def _order_or_404(order_id) -> dict:
    try:
        return selectors.order_get(order_id=order_id)
    except OrderNotFound:
        raise Http404("No such order.")


def _change_status(request, order_id, change, done: str):
    """Run a fulfil or cancel for the signed-in staff member; a conflict or a busy backend is
    said on the order page, which the browser goes back to either way."""
    try:
        change()
    except OrderNotFound:
        raise Http404("No such order.")
    except OrderStatusConflict as exc:
        messages.error(request, str(exc))
    except BusyError as exc:  # a stock lock not had in time: nothing decided
        messages.error(request, f"{exc} Nothing was changed yet; try again.")
    else:
        messages.success(request, done)
    return redirect("dashboard-order-detail", order_id=order_id)


@require_http_methods(["POST"])
@staff_required
def order_fulfil(request, order_id):
    _order_or_404(order_id)
    return _change_status(
        request,
        order_id,
        lambda: services.order_fulfil(order_id=order_id, user_id=request.user.pk),
        "Order fulfilled.",
    )


@require_http_methods(["GET", "POST"])
@staff_required
def order_cancel(request, order_id):
    """GET: the confirm page (with the optional reason); POST: the cancel."""
    doc = _order_or_404(order_id)
    # A POST without fields (no reason) is a cancel too: the form is bound to it all the same.
    form = CancelOrderForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"] or None
        return _change_status(
            request,
            order_id,
            lambda: services.order_cancel(
                order_id=order_id, user_id=request.user.pk, reason=reason
            ),
            "Order cancelled: its stock is back.",
        )
    return render(request, "orders/order_cancel.html", {"order": _row(doc), "form": form})


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
