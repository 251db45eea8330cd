"""Rebuild the sales summaries from the orders, or (--verify) only report what differs."""

import sys

from django.core.management.base import BaseCommand, CommandError

from orders import summary_rebuild


class _Progress:
    """tqdm on a terminal; otherwise a plain line every 10%."""

    def __init__(self, stream):
        self.stream, self.bar, self.total, self.done, self.shown = stream, None, 0, 0, -1

    def __call__(self, *, total: int | None = None, step: str | None = None) -> None:
        if total is not None:
            self.total = total
            if sys.stderr.isatty():
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="key", desc="summaries")
            return
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        tenth = self.done * 10 // max(self.total, 1)
        if tenth != self.shown:
            self.shown = tenth
            self.stream.write(
                f"{self.done}/{self.total} hours, days, months and customers ({step})"
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = (
        "Recompute the per-hour, per-day, per-month and per-customer sales summaries from the "
        "orders and report any difference; with --verify, only compare (exit status 1 if "
        "anything differs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--verify", action="store_true", help="Compare only; change nothing.")

    def handle(self, *args, verify: bool = False, **options):
        progress = _Progress(self.stdout)
        try:
            differences = summary_rebuild.rebuild(verify=verify, progress=progress)
        finally:
            progress.close()
        for line in differences:
            self.stdout.write(line)
        if not differences:
            self.stdout.write(
                f"No difference in {progress.total} hours, days, months and customers."
            )
        elif verify:
            raise CommandError(f"{len(differences)} summaries differ from the orders.")
        else:
            self.stdout.write(f"{len(differences)} summaries differed; rebuilt from the orders.")
