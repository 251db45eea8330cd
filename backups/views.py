"""Dashboard page "Backups" (admins): list, back up now, download, restore with confirmation."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sessions_app.permissions import admin_required

from . import repository, services


def _table_context() -> dict:
    backups = services.backup_list()
    restore = services.restore_status()
    polling = any(b["status"] == services.RUNNING for b in backups) or bool(
        restore and restore.get("status") == services.RUNNING
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
    except services.BackupError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Backup {started['name']} started.")
    return redirect("dashboard-backups")


@require_GET
@admin_required
def backup_download(request, name: str):
    try:
        backup = services.backup_get(name=name)
    except services.BackupNotFound:
        raise Http404("No such backup.")
    if backup["status"] != services.OK:
        raise Http404("This backup has no archive.")
    try:
        handle = open(repository.archive_path(name), "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        raise Http404("No such backup.")
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{name}{repository.ARCHIVE_SUFFIX}",
        content_type="application/gzip",
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
        preview = services.restore_preview(name=name)
    except services.BackupNotFound:
        raise Http404("No such backup.")
    except (services.BackupInvalid, services.RestoreBusy) as exc:
        return render(
            request, "backups/restore_refused.html", {"name": name, "error": str(exc)}, status=409
        )
    return render(request, "backups/restore_confirm.html", {"name": name, **preview})
