"""Staff dashboard pages for products. Thin: a form, a service or selector, a template."""

from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sessions_app.permissions import staff_required
from shopsite.csv_export import csv_link, csv_response, wants_csv_page
from shopsite.pagination import page_of

from . import selectors, services
from .exceptions import ProductNotFound, StockConflict, StockLockBusy
from .exports import PRODUCT_HEADER, product_rows
from .forms import ProductFilterForm, ProductForm, StockForm

PAGE_SIZE = 50


def _product_or_404(product_id) -> dict:
    try:
        return selectors.product_get(product_id=product_id)
    except ProductNotFound:
        raise Http404("No such product.")


@require_http_methods(["GET"])
@staff_required
def product_list(request):
    form = ProductFilterForm(request.GET or None)
    filters = {"category": None, "available": None, "q": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "category": data["category"] or None,
            "available": {"true": True, "false": False}.get(data["available"]),
            "q": data["q"] or None,
        }
    if wants_csv_page(request):
        rows = product_rows(selectors.products_iter(**filters))
        return csv_response(rows, header=PRODUCT_HEADER, filename="products.csv")
    sort = request.GET.get("sort") or selectors.PRODUCT_SORT_DEFAULT
    try:
        selectors.product_sort_keys(sort)
    except ValueError as exc:
        return HttpResponseBadRequest(f"sort: {exc}.")
    page = page_of(
        request,
        count=selectors.product_count(**filters),
        fetch=lambda skip, limit: selectors.product_list(
            **filters, skip=skip, limit=limit, sort=sort
        ),
        page_size=PAGE_SIZE,
    )
    return render(
        request,
        "catalog/product_list.html",
        {
            "form": form if form.is_bound else ProductFilterForm(),
            "products": [_row(doc) for doc in page.pop("items")],
            "unavailable_count": selectors.products_unavailable_count(),
            "csv_url": csv_link(request),
            **page,
        },
    )


def _row(doc: dict) -> dict:
    return {**doc, "id": str(doc["_id"])}


@require_http_methods(["GET", "POST"])
@staff_required
def product_create(request):
    form = ProductForm(request.POST or None, initial={"available": True})
    if request.method == "POST" and form.is_valid():
        doc = services.product_create(**form.validated, user_id=request.user.pk)
        messages.success(request, f"Created {doc['name']}.")
        return redirect("dashboard-products")
    return render(request, "catalog/product_form.html", {"form": form, "product": None})


@require_http_methods(["GET", "POST"])
@staff_required
def product_edit(request, product_id):
    doc = _product_or_404(product_id)
    form = ProductForm(request.POST or None, initial=ProductForm.initial_from(doc), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            doc = services.product_update(
                product_id=doc["_id"], user_id=request.user.pk, **form.changed_fields()
            )
        except ProductNotFound:
            raise Http404("No such product.")
        except StockLockBusy as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {doc['name']}.")
            return redirect("dashboard-products")
    return render(request, "catalog/product_form.html", {"form": form, "product": _row(doc)})


@require_http_methods(["GET", "POST"])
@staff_required
def product_delete(request, product_id):
    doc = _product_or_404(product_id)
    if request.method == "POST":
        try:
            services.product_delete(product_id=doc["_id"], user_id=request.user.pk)
        except ProductNotFound:
            raise Http404("No such product.")
        messages.success(request, f"Deleted {doc['name']}.")
        return redirect("dashboard-products")
    return render(request, "catalog/product_confirm_delete.html", {"product": _row(doc)})


@require_http_methods(["GET", "POST"])
@staff_required
def product_restock(request, product_id):
    doc = _product_or_404(product_id)
    form = StockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            doc = services.product_restock(
                product_id=doc["_id"], delta=form.validated["delta"], user_id=request.user.pk
            )
        except ProductNotFound:
            raise Http404("No such product.")
        except StockConflict as exc:
            form.add_error("delta", exc.detail)
        except StockLockBusy as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Stock of {doc['name']} is now {doc['stock']}.")
            return redirect("dashboard-products")
    return render(request, "catalog/product_restock.html", {"form": form, "product": _row(doc)})


@require_http_methods(["GET", "POST"])
@staff_required
def products_delete_unavailable(request):
    if request.method == "POST":
        deleted = services.products_delete_unavailable(user_id=request.user.pk)
        messages.success(request, f"Deleted {deleted} unavailable product(s).")
        return redirect("dashboard-products")
    return render(
        request,
        "catalog/products_delete_unavailable.html",
        {"count": selectors.products_unavailable_count()},
    )
