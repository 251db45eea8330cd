"""The sales window reads alone, called in this process (no HTTP), on a store bench.growth built:
totals, product, category and top-customer rows over 30 and 365 days, median of --repeat.

    .venv/bin/python -m bench.growth --import-only --sizes 100000   # once
    .venv/bin/python -m bench.window_reads --db shop_bench_growth
"""

import argparse
import os
import statistics
import time
from datetime import timedelta

from bench import server as bench_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="shop_bench_growth")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_server.BENCH_ENV["MONGODB_DB"] = args.db
    bench_server.setup_django()
    from orders import repository, sales, stats
    from shopsite.timeutil import utcnow

    sales.refresh()  # a store of another layout is rebuilt first, as at start-up
    now = utcnow()
    print(f"{repository.orders().estimated_document_count():,} orders; load {os.getloadavg()}")
    print(f"{'read':28} {'p50 ms':>8}  each")
    for days in (30, 365):
        start = now - timedelta(days=days)
        reads = {
            "totals": lambda start=start: stats.sold(start, None),
            "by product": lambda start=start: stats.sold(start, None, "product"),
            "by category": lambda start=start: stats.sold(start, None, "category"),
            "top customers": lambda start=start: stats.top_customers(start, now),
        }
        for name, read in reads.items():
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                read()
                times.append((time.perf_counter() - began) * 1000)
            each = ", ".join(f"{t:.0f}" for t in times)
            print(f"{f'{days} days, {name}':28} {statistics.median(times):8.1f}  {each}")


if __name__ == "__main__":
    main()
