"""Stats endpoints through HTTP (gunicorn) next to the same pipelines run directly with pymongo.

    .venv/bin/python -m bench.bench_stats                      # 20,000 orders
    .venv/bin/python -m bench.bench_stats --orders 1000000 --repeat 3

Orders of the agreed document shape are inserted with insert_many in batches into a database of
this benchmark's own, one per size (kept: a run with the same parameters reuses it). Prints, per
call, the median and best time through HTTP and directly, and the difference (what the API adds).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench import server as bench_server

DB_PREFIX = "shop_bench_stats"
CATEGORIES = [f"category-{i:02d}" for i in range(12)]


def configure_django(db_name: str) -> None:
    bench_server.BENCH_ENV["MONGODB_DB"] = db_name
    os.environ.update(bench_server.bench_env())
    import django

    django.setup()


def load(orders: int, products: int, customers: int, days: int, batch: int, seed: int) -> float:
    """Insert the orders unless this database already holds exactly this data set; seconds."""
    from orders.documents import order_document
    from orders.repository import orders as orders_collection
    from shopsite.mongo import get_db

    meta = get_db()["bench_meta"]
    params = {"orders": orders, "products": products, "customers": customers, "days": days}
    params["seed"] = seed
    if meta.find_one({"_id": "stats", **params}) and orders_collection().estimated_document_count():
        print(f"reusing {orders:,} orders in {get_db().name}")
        return 0.0
    orders_collection().delete_many({})
    meta.delete_many({})
    rng = random.Random(seed)
    catalog = [
        {
            "_id": f"{i + 1:024x}",
            "name": f"Product {i}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "price_cents": rng.randint(99, 19999),
        }
        for i in range(products)
    ]
    now = datetime.now(UTC)
    began = time.perf_counter()
    docs = []
    for index in range(orders):
        created = now - timedelta(seconds=rng.randint(60, days * 86400), milliseconds=index % 1000)
        lines = [(product, rng.randint(1, 5)) for product in rng.sample(catalog, rng.randint(1, 4))]
        docs.append(
            order_document(
                customer=f"customer-{rng.randint(1, customers):05d}",
                lines=lines,
                created_at=created.replace(microsecond=created.microsecond // 1000 * 1000),
                created_by="bench",
            )
        )
        if len(docs) == batch:
            orders_collection().insert_many(docs, ordered=False)
            docs = []
            done = index + 1
            if done % (batch * 20) == 0:
                rate = done / (time.perf_counter() - began)
                print(f"  inserted {done:,} ({rate:,.0f}/s)", file=sys.stderr)
    if docs:
        orders_collection().insert_many(docs, ordered=False)
    meta.insert_one({"_id": "stats", **params})
    return time.perf_counter() - began


class Outage(Exception):
    """The server went away mid-sample (on a shared machine, a fault test may stop it)."""


def timed(call, repeat: int) -> tuple[list[float], int]:
    """Times of `repeat` successful calls, and how many samples were retried after an outage."""
    import pymongo.errors

    times, retries = [], 0
    while len(times) < repeat:
        began = time.perf_counter()
        try:
            call()
        except (Outage, pymongo.errors.ConnectionFailure):
            retries += 1
            if retries > 30:
                raise
            time.sleep(10)
            continue
        times.append((time.perf_counter() - began) * 1000)
    return times, retries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=365, help="orders spread over this many days")
    parser.add_argument("--batch", type=int, default=5_000, help="insert_many batch size")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    # One database per size, kept: switching sizes does not reload.
    configure_django(f"{DB_PREFIX}_{args.orders}")
    from orders import stats
    from shopsite.timeutil import utcnow

    seconds = load(args.orders, args.products, args.customers, args.days, args.batch, args.seed)
    if seconds:
        print(
            f"inserted {args.orders:,} orders in {seconds:.1f} s ({args.orders / seconds:,.0f}/s)"
        )
    if seconds:
        # Inserted behind the repository's back: the sales summaries are rebuilt from them.
        from orders import sales

        began = time.perf_counter()
        sales.rebuild()
        print(f"summaries rebuilt in {time.perf_counter() - began:.1f} s")
    customer = "customer-00001"

    with bench_server.production_server(workers=2) as srv:
        if not srv.auth:
            sys.exit("could not log in through /auth/login/: no HTTP figures")
        http = httpx.Client(base_url=srv.url, headers=srv.auth, timeout=600)

        def login():
            body = {"username": bench_server.USERNAME, "password": bench_server.PASSWORD}
            token = http.post("/auth/login/", json=body).json()["session_token"]
            http.headers["Authorization"] = f"Bearer {token}"

        def get(path):
            def call():
                response = http.get(path)
                if response.status_code == 401:
                    # Another benchmark logged the shared bench user in anew (one session a user).
                    login()
                    response = http.get(path)
                if response.status_code == 503:
                    raise Outage(response.text)
                if response.status_code != 200:
                    sys.exit(f"{path}: {response.status_code} {response.text[:200]}")
                return response.json()

            return call

        def window():
            end = utcnow()
            return end - timedelta(days=30), end

        cases = [
            ("GET /stats/sold/", get("/stats/sold/"), lambda: stats.sold_totals(*window())),
            (
                "GET /stats/sold/?by=day",
                get("/stats/sold/?by=day"),
                lambda: (stats.sold_totals(*window()), stats.sold_breakdown(*window(), "day")),
            ),
            (
                "GET /stats/sold/?by=product",
                get("/stats/sold/?by=product"),
                lambda: (stats.sold_totals(*window()), stats.sold_breakdown(*window(), "product")),
            ),
            (
                f"GET /stats/customer/{customer}",
                get(f"/stats/customer/{customer}"),
                lambda: stats.customer_totals(customer),
            ),
        ]
        for _ in range(3):  # warm both workers' connections and the probe
            timed(get("/stats/sold/"), 1)
        sample = get("/stats/sold/")()
        print(
            f"{args.orders:,} orders; last 30 days: {sample['orders']:,} orders, "
            f"{sample['total_quantity']:,} units, revenue {sample['revenue']}"
        )
        from orders.repository import orders as orders_collection

        def one_pipeline():
            start, end = window()
            match = {"$match": {"created_at": {"$gte": start, "$lt": end}}}
            group = {"$group": {"_id": None, "revenue": {"$sum": "$total_cents"}}}
            return list(orders_collection().aggregate([match, group]))

        one_ms, _ = timed(one_pipeline, args.repeat)
        print(
            f"reference: one $match+$group pipeline with pymongo: "
            f"p50 {statistics.median(one_ms):.1f} ms, min {min(one_ms):.1f} ms"
        )
        header = f"{'call':34} {'HTTP p50':>10} {'HTTP min':>10} {'direct p50':>11} {'direct min':>11} {'API adds':>9}"  # noqa: E501
        print(header)
        print("-" * len(header))
        for label, over_http, direct in cases:
            http_ms, http_retries = timed(over_http, args.repeat)
            direct_ms, direct_retries = timed(direct, args.repeat)
            h50, d50 = statistics.median(http_ms), statistics.median(direct_ms)
            print(
                f"{label:34} {h50:9.1f}ms {min(http_ms):9.1f}ms {d50:10.1f}ms "
                f"{min(direct_ms):10.1f}ms {h50 - d50:8.1f}ms"
                + (
                    f"  ({http_retries + direct_retries} samples retried)"
                    if http_retries + direct_retries
                    else ""
                )
            )


if __name__ == "__main__":
    main()
