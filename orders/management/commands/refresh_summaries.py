"""Recompute only the sales summaries marked dirty (cheap; run it periodically)."""

from django.core.management.base import BaseCommand

from orders import summaries


class Command(BaseCommand):
    help = (
        "Recompute the hours (and their days) and customers whose sales summaries are marked "
        "dirty. The event-log worker does this every SALES_SUMMARY_REFRESH_EVERY_SECONDS; "
        "until then reads summarise dirty hours from their orders."
    )

    def handle(self, *args, **options):
        done = summaries.refresh_all()
        self.stdout.write(f"{done} hours and customers recomputed.")
