"""The scheduled backup as cron runs it (CRONJOBS in settings: `manage.py crontab run <hash>`)."""

import logging
import os
import sys

from django.core.management import CommandError, call_command

logger = logging.getLogger(__name__)


def backup_job() -> None:
    """Run `backup_mongo`; if it fails, end the process with status 1 so that cron's mail or
    monitoring sees it. django-crontab's run_job catches every exception, SystemExit included, and
    exits 0: os._exit is the one way out it cannot swallow."""
    try:
        call_command("backup_mongo")
        return
    except CommandError as exc:
        sys.stderr.write(f"{exc}\n")  # redacted by the backup
    except Exception:
        logger.exception("scheduled backup crashed")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)
