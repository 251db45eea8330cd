"""What a list read costs as the current hour fills: `orders_recent(limit=20)` and the first page
of `orders_page_since(days=30)`, in this process, with the hour dirty (one order placed since the
last refresh, as in a shop taking orders) and clean.

    .venv/bin/python -m bench.busy_hour                       # 1,000, 5,000 and 15,000 orders
    .venv/bin/python -m bench.busy_hour --sizes 500,2000 --repeat 10

Orders are placed through the services (orders.services.orders_place_bulk) at random moments of
the last whole UTC hour (the newest hour with orders, as the current one is in a shop; spread over
its 60 minutes whatever the time now), in a database of their own (--db, emptied first). For
each size: p50 of --repeat calls after a warm-up, the Python memory one call allocated at its
peak (tracemalloc), and the size of the hour's stored summary. A read that costs what it returns
stays flat; one that reads the hour's moments grows with the hour (and one that reads a minute's
orders, with the orders per minute).
"""

import argparse
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from bench import growth


def place_in_hour(start: datetime, count: int, *, product_ids, rng) -> None:
    from orders import services

    times = sorted(start + timedelta(seconds=rng.uniform(0, 3599.999)) for _ in range(count))
    for first in range(0, count, 1000):
        chosen = rng.sample(product_ids, min(len(product_ids), 8))
        orders = [
            {
                "customer": f"customer-{rng.randrange(2000):05d}",
                "created_at": created,
                "items": [{"product_id": str(pid), "quantity": 1} for pid in rng.sample(chosen, 2)],
            }
            for created in times[first : first + 1000]
        ]
        services.orders_place_bulk(orders=orders, user_id=None)


def measure(read, repeat: int) -> tuple[float, float]:
    """(p50 ms, peak MiB allocated by one call)."""
    read()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        timings.append((time.perf_counter() - started) * 1000)
    tracemalloc.start()
    read()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(timings), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,15000", help="orders in the hour, ascending")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", default="shop_bench_busy_hour")
    args = parser.parse_args()
    growth.configure(args.db)
    growth.reset_database()

    from orders import selectors, services
    from orders.sales import store
    from shopsite.timeutil import hour_key

    rng = random.Random(7)
    product_ids = [doc["_id"] for doc in growth.create_products(50)]
    reads = {
        "orders_recent(20)": lambda: selectors.orders_recent(limit=20),
        "orders_page_since(30d, 50)": lambda: selectors.orders_page_since(days=30, limit=50),
    }
    print(f"{'orders':>7} {'state':<6} {'read':<27} {'p50 ms':>8} {'peak MiB':>9} {'hour doc':>9}")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    hour = hour_key(start)

    def place(count: int) -> None:
        place_in_hour(start, count, product_ids=product_ids, rng=rng)

    placed = 0
    for size in (int(s) for s in args.sizes.split(",")):
        place(size - placed - 1)
        services.sales_summaries_refresh()
        place(1)  # dirty again
        placed = size
        doc_kib = len(str(store.HOURS.collection().find_one({"_id": hour}))) / 1024
        for state in ("dirty", "clean"):
            if state == "clean":
                services.sales_summaries_refresh()
            for name, read in reads.items():
                p50, peak = measure(read, args.repeat)
                line = f"{size:>7} {state:<6} {name:<27} {p50:>8.1f} {peak:>9.2f}"
                print(f"{line} {doc_kib:>7.0f} K")
        place(1)
        placed += 1


if __name__ == "__main__":
    main()
