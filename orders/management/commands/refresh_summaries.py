"""Recompute only the sales summaries marked dirty (cheap; run it periodically)."""

from django.core.management.base import BaseCommand

from orders import summaries


class Command(BaseCommand):
    help = (
        "Recompute the days and customers whose sales summaries are marked dirty. Reads do this "
        "for the days they need and the customer they ask for; customers nobody looks up keep "
        "their markers until this (or rebuild_summaries) runs."
    )

    def handle(self, *args, **options):
        done = []
        summaries.refresh_all(progress=lambda: done.append(1))
        self.stdout.write(f"{len(done)} days and customers recomputed.")
