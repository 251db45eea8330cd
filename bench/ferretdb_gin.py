"""Equality reads on FerretDB/PostgreSQL with and without the GIN indexes init_mongo adds, and the
resident memory of the PostgreSQL processes.

    python -m bench.ferretdb_gin --orders 50000 [--repeat 7]

Uses its own database (shop_bench_gin), dropped at the end; needs the services up
(scripts/services.sh up). Prints a markdown table of medians in milliseconds.
"""

import argparse
import os
import random
import statistics
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
os.environ.setdefault("SHOPSITE_ALLOW_INSECURE_KEY", "1")
os.environ["MONGODB_DB"] = "shop_bench_gin"


def postgres_pss_mib(conn) -> tuple[float, int]:
    """Sum of Pss (shared pages counted once) over this PostgreSQL server's processes: the
    postmaster (first line of postmaster.pid) and its children."""
    data_dir = conn.execute("SHOW data_directory").fetchone()[0]
    with open(f"{data_dir}/postmaster.pid") as f:
        postmaster = f.readline().strip()
    children = subprocess.run(["pgrep", "-P", postmaster], capture_output=True, text=True).stdout
    total, count = 0, 0
    for pid in [postmaster, *children.split()]:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            count += 1
        except OSError:
            continue
    return total / 1024, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    django.setup()
    import psycopg
    from django.conf import settings

    from orders.documents import order_document
    from shopsite import ferretdb_pg
    from shopsite.management.commands.init_mongo import init_mongo
    from shopsite.mongo import get_client, get_db

    db = get_db()
    get_client().drop_database(db.name)
    rng = random.Random(7)
    first = date(2025, 1, 1)
    days = max(1, args.orders // 150)  # ~150 orders a day
    customers = max(1, args.orders // 25)
    products = [
        {"_id": f"{i + 1:024x}", "name": f"Product {i}", "category": f"category-{i % 12}",
         "price_cents": rng.randrange(100, 100000)}
        for i in range(500)
    ]  # fmt: skip

    def order(day_offset: int, customer: int) -> dict:
        created = datetime.combine(first + timedelta(days=day_offset), dt_time(12), tzinfo=UTC)
        lines = [(rng.choice(products), rng.randint(1, 3)) for _ in range(rng.randint(1, 4))]
        return order_document(customer=f"customer {customer}", lines=lines, created_at=created)

    docs = [order(rng.randrange(days), rng.randrange(customers)) for _ in range(args.orders)]
    for start in range(0, len(docs), 5000):
        db.orders.insert_many(docs[start : start + 5000])
    init_mongo()
    if not ferretdb_pg.on_postgresql(db.name):
        raise SystemExit("not FerretDB on PostgreSQL")
    some_id = docs[len(docs) // 2]["_id"]
    reads = {
        'find_one({"_id": id})': lambda: db.orders.find_one({"_id": some_id}),
        'find({"customer": X})': lambda: list(db.orders.find({"customer": "customer 7"})),
        'find({"day": D})': lambda: list(db.orders.find({"day": first.isoformat()})),
        'find({"day": D}), no match': lambda: list(db.orders.find({"day": "1999-01-01"})),
        # The indexes' cost on writes.
        "insert_one": lambda: db.orders.insert_one(order(0, 1)),
    }

    def timed() -> dict[str, float]:
        out = {}
        for label, read in reads.items():
            for _ in range(3):  # warm-up
                read()
            samples = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                read()
                samples.append((time.perf_counter() - started) * 1000)
            out[label] = statistics.median(samples)
        return out

    with_gin = timed()
    table = ferretdb_pg.table_name(db.name, "orders")
    with psycopg.connect(settings.FERRETDB_POSTGRESQL_URL, autocommit=True) as conn:
        for field in ("_id", "day", "customer"):
            name = ferretdb_pg.gin_index_name(table, field)
            conn.execute(f'DROP INDEX "{db.name}"."{name}"')
        without = timed()
        pss, processes = postgres_pss_mib(conn)
    get_client().drop_database(db.name)

    print(f"{args.orders} orders, median of {args.repeat} (ms); load {os.getloadavg()}")
    print("| query | without GIN | with GIN |\n| --- | --- | --- |")
    for label in reads:
        print(f"| `{label}` | {without[label]:.2f} | {with_gin[label]:.2f} |")
    print(f"PostgreSQL: {processes} processes, Pss sum {pss:.0f} MiB")


if __name__ == "__main__":
    main()
