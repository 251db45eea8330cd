"""Bring the sales summaries up to date: rebuilt if their layout or the shop's time zone changed
(or after a restore), then the ledger folded. Run before serving (make run, docker compose)."""

import time

from django.core.management.base import BaseCommand

from orders import services


class Command(BaseCommand):
    help = (
        "Rebuild the sales summaries if their layout or SHOP_TIME_ZONE changed (or after a "
        "restore), then fold the sales ledger into them. The worker does this every "
        "SALES_FOLD_EVERY_SECONDS; run it before serving after a change of SHOP_TIME_ZONE."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        folded = services.sales_summaries_refresh()
        took = time.monotonic() - started
        self.stdout.write(f"Sales summaries up to date ({folded} entries folded, {took:.1f} s).")
