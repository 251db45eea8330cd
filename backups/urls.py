"""API routes (contract paths) and dashboard pages (under dashboard/)."""

from django.urls import path

from shopsite.routing import optional_slash

from . import api, views

urlpatterns = [
    optional_slash("backups/", api.BackupListApi.as_view(), name="backup-list"),
    optional_slash("backups/<str:name>/", api.BackupDetailApi.as_view(), name="backup-detail"),
    optional_slash(
        "backups/<str:name>/download/", api.BackupDownloadApi.as_view(), name="backup-download"
    ),
    optional_slash(
        "backups/<str:name>/restore/", api.BackupRestoreApi.as_view(), name="backup-restore"
    ),
    path("dashboard/backups/", views.backups_page, name="dashboard-backups"),
    path("dashboard/backups/table/", views.backups_table, name="dashboard-backups-table"),
    path("dashboard/backups/run/", views.backup_now, name="dashboard-backup-now"),
    path(
        "dashboard/backups/<str:name>/download/",
        views.backup_download,
        name="dashboard-backup-download",
    ),
    path(
        "dashboard/backups/<str:name>/restore/",
        views.restore_confirm,
        name="dashboard-backup-restore",
    ),
]
