"""What `make run` does about the first admin: create it from the environment, ask, or say how.

- SHOPSITE_ADMIN_PASSWORD set (environment or .env): `create_admin` (idempotent).
- otherwise, no superuser yet: with --ask and a terminal, offer `createsuperuser`; else print the
  commands that create one. An existing admin: nothing is printed.
"""

import os
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

HOW_TO = """\
No admin user yet. In another terminal, in {root}:
  .venv/bin/python manage.py createsuperuser
or without questions:
  SHOPSITE_ADMIN_USERNAME=admin SHOPSITE_ADMIN_PASSWORD='...' \\
    .venv/bin/python manage.py create_admin
"""


class Command(BaseCommand):
    help = "Create the first admin from the environment, offer to create one, or say how."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ask", action="store_true", help="On a terminal, offer to run createsuperuser."
        )

    def handle(self, *args, ask: bool = False, **options):
        if os.environ.get("SHOPSITE_ADMIN_PASSWORD"):
            os.environ.setdefault("SHOPSITE_ADMIN_USERNAME", "admin")
            call_command("create_admin", stdout=self.stdout, stderr=self.stderr)
            return
        if get_user_model().objects.filter(is_superuser=True, is_active=True).exists():
            return
        if ask and sys.stdin.isatty():
            answer = input("No admin user yet. Create one now? [Y/n] ").strip().lower()
            if answer in ("", "y", "yes"):
                try:
                    call_command("createsuperuser", interactive=True)
                    return
                except SystemExit:  # createsuperuser's own Ctrl-C handling: serve anyway
                    pass
        self.stdout.write(HOW_TO.format(root=settings.BASE_DIR))
