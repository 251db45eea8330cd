"""Dashboard page "Backups" (admins): list, back up now, download, restore with confirmation."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sessions_app.permissions import admin_required

from . import selectors, services
from .exceptions import BackupError, BackupInvalid, BackupNotFound, RestoreBusy


def _table_context() -> dict:
    backups = selectors.backup_list()
    restore = selectors.restore_status()
    polling = any(b["status"] == selectors.RUNNING for b in backups) or bool(
        restore and restore.get("status") == selectors.RUNNING
    )
    return {"backups": backups, "restore": restore, "polling": polling}


@require_GET
@admin_required
def backups_page(request):
    return render(request, "backups/backups.html", _table_context())


@require_GET
@admin_required
def backups_table(request):
    """The list alone: htmx polls it every 2 s while a backup or restore is running."""
    return render(request, "backups/_table.html", _table_context())


@require_POST
@admin_required
def backup_now(request):
    try:
        started = services.backup_start(user_id=request.user.pk)
    except BackupError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Backup {started['name']} started.")
    return redirect("dashboard-backups")


@require_GET
@admin_required
def backup_download(request, name: str):
    try:
        handle, filename = selectors.backup_archive_open(name=name)
    except (BackupNotFound, BackupInvalid):
        raise Http404("No such backup, or it has no archive.")
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/gzip"
    )


@require_http_methods(["GET", "POST"])
@admin_required
def restore_confirm(request, name: str):
    """GET: what the restore replaces (current vs backed-up counts). POST: start it."""
    try:
        if request.method == "POST":
            services.restore_start(name=name, user_id=request.user.pk)
            messages.info(request, f"Restore of {name} started.")
            return redirect("dashboard-backups")
        preview = selectors.restore_preview(name=name)
    except BackupNotFound:
        raise Http404("No such backup.")
    except (BackupInvalid, RestoreBusy) as exc:
        return render(
            request, "backups/restore_refused.html", {"name": name, "error": str(exc)}, status=409
        )
    return render(request, "backups/restore_confirm.html", {"name": name, **preview})
