"""`manage.py backup_mongo`: one mongodump archive of MONGODB_DB, then retention (run by cron)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from backups import repository, services
from backups.exceptions import BackupError
from backups.progress import progress_for


class Command(BaseCommand):
    help = (
        "Back up settings.MONGODB_DB with mongodump into BACKUP_DIR (one gzipped archive and a "
        "manifest), then keep the newest BACKUP_RETENTION good backups. Exits non-zero on failure. "
        "Shows a progress bar on a terminal, progress lines in the log otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            help="run the backup reserved under this name (used by the API and dashboard)",
        )

    def handle(self, *args, name=None, **options):
        if name is not None and not repository.valid_name(name):
            raise CommandError(f"not a backup name: {name!r}")
        try:
            manifest = services.backup_run(name=name, progress=progress_for(sys.stderr))
        except BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from None
        documents = sum((manifest.get("collections") or {}).values())
        self.stdout.write(
            f"backup {manifest['name']} ok: {manifest['size_bytes']} bytes, "
            f"{documents} documents in {len(manifest.get('collections') or {})} collections"
        )
