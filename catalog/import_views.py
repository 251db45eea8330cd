"""Dashboard page: import products from a CSV file (upload, preview with each row's errors,
then all-or-nothing import). Thin: catalog.imports checks, catalog.services writes."""

import secrets

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sessions_app.permissions import staff_required

from . import import_services, imports
from .exceptions import ProductNotFound, StockLockBusy

# The uploaded file waits this long between the preview and the import.
PENDING_SECONDS = 3600
# Rows shown in the preview: every row with errors (up to this many) and the first valid ones.
PREVIEW_ERRORS = 500
PREVIEW_VALID = 20


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"})
    )
    mode = forms.ChoiceField(
        choices=[("create", "Create new products"), ("update", "Update existing products")],
        initial="create",
        widget=forms.RadioSelect,
    )
    match = forms.ChoiceField(
        label="Update: find each product by",
        choices=[("id", "id column"), ("name_category", "name + category columns")],
        initial="id",
        required=False,
    )


def _key(request, token: str) -> str:
    return f"product-import:{request.user.pk}:{token}"


def _context(form, plan=None, token=None, file_error=None) -> dict:
    context = {
        "form": form,
        "max_bytes": imports.max_bytes(),
        "max_rows": imports.MAX_ROWS,
        "create_columns": (imports.CREATE_REQUIRED, imports.CREATE_OPTIONAL),
        "update_columns": imports.UPDATE_FIELDS,
        "file_error": file_error,
    }
    if plan is not None:
        errors = plan.errors
        context.update(
            plan=plan,
            token=token,
            error_rows=errors[:PREVIEW_ERRORS],
            more_errors=max(0, len(errors) - PREVIEW_ERRORS),
            valid_rows=[row for row in plan.rows if row.ok][:PREVIEW_VALID],
            valid_count=len(plan.rows) - len(errors),
        )
    return context


@require_http_methods(["GET", "POST"])
@staff_required
def product_import(request):
    """GET: the upload form. POST: check the file and show the preview (nothing written)."""
    if request.method == "GET":
        return render(request, "catalog/product_import.html", _context(ImportForm()))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "catalog/product_import.html", _context(form), status=400)
    upload = form.cleaned_data["file"]
    mode, match = form.cleaned_data["mode"], form.cleaned_data["match"] or "id"
    if upload.size > imports.max_bytes():
        error = (
            f"The file is too large: {upload.size:,} bytes, at most {imports.max_bytes():,} bytes."
        )
        return render(
            request, "catalog/product_import.html", _context(form, file_error=error), status=400
        )
    raw = upload.read()
    try:
        plan = imports.plan(raw, mode=mode, match=match)
    except imports.ImportFileError as exc:
        return render(
            request, "catalog/product_import.html", _context(form, file_error=str(exc)), status=400
        )
    token = None
    if plan.ok:
        token = secrets.token_urlsafe(16)
        cache.set(_key(request, token), {"raw": raw, "mode": mode, "match": match}, PENDING_SECONDS)
    status = 200 if plan.ok else 400
    return render(
        request, "catalog/product_import.html", _context(form, plan, token), status=status
    )


@require_http_methods(["POST"])
@staff_required
def product_import_confirm(request):
    """Import the previewed file: checked again (the shop may have changed), then written."""
    token = request.POST.get("token", "")
    pending = cache.get(_key(request, token)) if token else None
    form = ImportForm(initial={"mode": "create"})
    if pending is None:
        error = "This upload has expired or is unknown: upload the file again."
        return render(
            request, "catalog/product_import.html", _context(form, file_error=error), status=400
        )
    form = ImportForm(initial={"mode": pending["mode"], "match": pending["match"]})
    try:
        plan = imports.plan(pending["raw"], mode=pending["mode"], match=pending["match"])
    except imports.ImportFileError as exc:
        return render(
            request, "catalog/product_import.html", _context(form, file_error=str(exc)), status=400
        )
    if not plan.ok:
        return render(request, "catalog/product_import.html", _context(form, plan), status=400)
    try:
        if plan.mode == "create":
            count = len(
                import_services.products_import_create(
                    items=[row.data for row in plan.rows], user_id=request.user.pk
                )
            )
        else:
            updates = [(str(row.product["_id"]), row.data) for row in plan.rows]
            count = import_services.products_import_update(updates=updates, user_id=request.user.pk)
    except (ProductNotFound, StockLockBusy) as exc:
        error = f"Nothing was imported: {exc} Check the file and try again."
        return render(
            request, "catalog/product_import.html", _context(form, file_error=error), status=409
        )
    cache.delete(_key(request, token))
    verb = "Created" if plan.mode == "create" else "Updated"
    messages.success(request, f"{verb} {count} products from the file.")
    return redirect("dashboard-products")
