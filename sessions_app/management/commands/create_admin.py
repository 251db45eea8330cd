"""Create or update the first admin from SHOPSITE_ADMIN_USERNAME / SHOPSITE_ADMIN_PASSWORD.

Idempotent: running it again leaves one user, a superuser and staff member in the `admins` group,
whose password is the one in the environment (only re-hashed if it changed).
"""

import os

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_app.permissions import ADMINS_GROUP


class Command(BaseCommand):
    help = (
        "Create or update an admin user from SHOPSITE_ADMIN_USERNAME and SHOPSITE_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-password-validation",
            action="store_true",
            help="Accept a password that Django's AUTH_PASSWORD_VALIDATORS would reject.",
        )

    def handle(self, *args, **options):
        username = os.environ.get("SHOPSITE_ADMIN_USERNAME", "").strip()
        password = os.environ.get("SHOPSITE_ADMIN_PASSWORD", "")
        email = os.environ.get("SHOPSITE_ADMIN_EMAIL", "").strip()
        if not username or not password:
            raise CommandError("Set SHOPSITE_ADMIN_USERNAME and SHOPSITE_ADMIN_PASSWORD.")
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(username=username)
            if not options["skip_password_validation"]:
                try:
                    password_validation.validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError("SHOPSITE_ADMIN_PASSWORD: " + " ".join(exc.messages))
            if created or not user.check_password(password):
                user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            if email:
                user.email = email
            user.save()
            user.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} admin user {username!r}.")
