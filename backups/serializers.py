"""Output shapes of the backups API (for the schema; the services return plain dicts)."""

from rest_framework import serializers


class BackupSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="mongo-YYYYMMDD-HHMMSS-mmm (UTC start time)")
    created_at = serializers.CharField(help_text="ISO 8601 UTC, when the backup started")
    finished_at = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="running, ok or failed")
    size_bytes = serializers.IntegerField(allow_null=True, help_text="archive size; null unless ok")
    documents = serializers.IntegerField(
        allow_null=True, help_text="total documents; null unless ok"
    )
    collections = serializers.DictField(
        child=serializers.IntegerField(), help_text="document count per collection (ok only)"
    )
    sha256 = serializers.CharField(allow_null=True)
    database = serializers.CharField(allow_null=True)
    mongodump_version = serializers.CharField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="why it failed (status failed)")
    started_by = serializers.CharField(allow_null=True, help_text="user id; null for cron")


class BackupStartedSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="running")


class RestoreStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="running, ok or failed")
    started_at = serializers.CharField(allow_null=True, required=False)
    finished_at = serializers.CharField(allow_null=True, required=False)
    error = serializers.CharField(allow_null=True, required=False)
    collections = serializers.DictField(child=serializers.IntegerField(), required=False)


def restore_status_out(data: dict) -> dict:
    keys = ("name", "status", "started_at", "finished_at", "error", "collections")
    return {key: data[key] for key in keys if key in data}
