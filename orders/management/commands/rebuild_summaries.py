"""Rebuild the sales summaries from the orders, or (--verify) only report what differs."""

import time

from django.core.management.base import BaseCommand, CommandError

from orders import sales


class Command(BaseCommand):
    help = (
        "Recompute every sales summary (hours, the shop's days and months, customers) from the "
        "orders in SHOP_TIME_ZONE; with --verify, only compare (exit status 1 if anything "
        "differs). Reads answer 503 while a rebuild runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--verify", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args, verify: bool = False, **options):
        started = time.monotonic()
        if verify:
            differences = sales.verify()
            for line in differences:
                self.stdout.write(line)
            if differences:
                raise CommandError(f"{len(differences)} summaries differ from the orders.")
            self.stdout.write("No difference between the sales summaries and the orders.")
            return
        read = sales.rebuild()
        took = time.monotonic() - started
        self.stdout.write(f"Rebuilt the sales summaries from {read} orders in {took:.1f} s.")
