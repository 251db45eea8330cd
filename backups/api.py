"""JSON API of backups (admins only): list, start, status, download, restore."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app.permissions import IsAdmin
from shopsite.api import error_response

from . import selectors, services
from .serializers import (
    BackupSerializer,
    BackupStartedSerializer,
    RestoreStatusSerializer,
    restore_status_out,
)

_ERRORS = {401: error_response("Not logged in."), 403: error_response("Not an admin.")}
_NOT_FOUND = {404: error_response("No backup by that name.")}


class BackupListApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        summary="List backups, newest first",
        description=(
            "Every backup in BACKUP_DIR: good ones (at most BACKUP_RETENTION are kept), running "
            "and failed ones. A plain list: its length is bounded by the retention."
        ),
        responses={200: BackupSerializer(many=True), **_ERRORS},
    )
    def get(self, request):
        return Response(selectors.backup_list())

    @extend_schema(
        summary="Start a backup now (mongodump in the background)",
        description=(
            "Returns at once with the new backup's name; poll `GET /backups/{name}/` until its "
            "status is `ok` or `failed` (with `error`). Runs `manage.py backup_mongo --name <name>`"
            " in a child process; a backup already running makes this one wait for the lock."
        ),
        request=None,
        responses={202: BackupStartedSerializer, **_ERRORS},
    )
    def post(self, request):
        started = services.backup_start(user_id=request.user.pk)
        return Response(started, status=status.HTTP_202_ACCEPTED)


class BackupDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        summary="One backup: status running, ok or failed (with error)",
        responses={200: BackupSerializer, **_ERRORS, **_NOT_FOUND},
    )
    def get(self, request, name: str):
        return Response(selectors.backup_get(name=name))


class BackupDownloadApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        summary="Download the archive (gzipped mongodump --archive)",
        description="Restore it elsewhere with `mongorestore --gzip --archive=<file> --drop`.",
        responses={
            (200, "application/gzip"): OpenApiResponse(description="the archive, streamed"),
            **_ERRORS,
            **_NOT_FOUND,
            409: error_response("Backup is running or failed."),
        },
    )
    def get(self, request, name: str):
        handle, filename = selectors.backup_archive_open(name=name)
        return FileResponse(
            handle, as_attachment=True, filename=filename, content_type="application/gzip"
        )


class BackupRestoreApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        summary="Restore this backup into the shop database (replaces its collections)",
        description=(
            "Verifies the backup first (status ok, size and sha256 as in its manifest): an "
            "incomplete or altered backup gets 409 and nothing is touched. Then runs "
            "`manage.py restore_mongo <name>` in the background: `mongorestore --drop` replaces "
            "every collection in the backup (other collections are left as they are) and "
            "recreates its indexes. Answers 202 at once; poll `GET /backups/{name}/restore/`. "
            "Backups and restores take turns (one lock), so a running backup delays the restore."
        ),
        request=None,
        responses={
            202: RestoreStatusSerializer,
            **_ERRORS,
            **_NOT_FOUND,
            409: error_response(
                "Backup incomplete, failed or altered; or a restore already running."
            ),
        },
    )
    def post(self, request, name: str):
        started = services.restore_start(name=name, user_id=request.user.pk)
        return Response(started, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Status of the latest restore of this backup",
        responses={
            200: RestoreStatusSerializer,
            **_ERRORS,
            404: error_response("This backup was never restored."),
        },
    )
    def get(self, request, name: str):
        selectors.backup_get(name=name)
        latest = selectors.restore_status()
        if not latest or latest.get("name") != name:
            raise exceptions.NotFound(f"No restore of {name} is recorded.")
        return Response(restore_status_out(latest))
