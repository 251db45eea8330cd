"""`manage.py restore_mongo <name>`: verify a backup, then mongorestore --drop it."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups import services
from backups.exceptions import BackupError, BackupInvalid, BackupNotFound
from backups.progress import progress_for


class Command(BaseCommand):
    help = (
        "Restore a backup from BACKUP_DIR into settings.MONGODB_DB (mongorestore --drop): the "
        "collections in the backup are replaced. Refuses unknown, incomplete or altered backups. "
        "Shows a progress bar on a terminal, progress lines in the log otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="backup name, as listed by GET /backups/")
        parser.add_argument("--user-id", default=None, help="who asked for it (event log)")

    def handle(self, *args, name, user_id=None, **options):
        try:
            status = services.restore_run(
                name=name, user_id=user_id, progress=progress_for(sys.stderr)
            )
        except (BackupNotFound, BackupInvalid) as exc:
            raise CommandError(f"restore refused: {exc}") from None
        except BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from None
        documents = sum(status["collections"].values())
        self.stdout.write(
            f"restored {name} into {settings.MONGODB_DB}: {documents} documents in "
            f"{len(status['collections'])} collections"
        )
