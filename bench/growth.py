"""Every read of the API and the dashboard, timed as the orders grow.

    .venv/bin/python -m bench.growth                          # 10k, 100k, 1M orders
    .venv/bin/python -m bench.growth --sizes 500,2000 --repeat 3
    .venv/bin/python -m bench.growth --db shop_1m --sizes 1000000 --import-only   # then:
    .venv/bin/python -m bench.growth --db shop_1m --sizes 1000000 --keep          # time it
    .venv/bin/python -m bench.growth --sizes 6000 --after-import 18000     # reads at once after

Orders are imported through the services (orders.services.orders_place_bulk: the purchase, with
its stock locks, sales ledger entry and events), past-dated over the last --days days, with random
customers and items (each batch's items from 8 random products), in batches of --batch sorted by
time (a batch then touches one or two days). After each import step the sales summaries are
brought up to date (what any read, or `rebuild_summaries`, does; timed and reported apart), then
each read is timed through gunicorn:
--repeat sequential requests after one warm-up, p50 and max. The table ends with each read's
ratio of its largest p50 to its smallest. The database (MONGODB_DB, default shop_bench_growth) is
emptied first; the event-log worker runs alongside so the Redis outbox drains into Cassandra.
"""

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench import server as bench_server

CATEGORIES = [f"category-{i:02d}" for i in range(12)]


def configure(db_name: str) -> None:
    bench_server.BENCH_ENV["MONGODB_DB"] = db_name
    bench_server.setup_django()


def reset_database() -> None:
    from django.conf import settings

    from shopsite.mongo import get_client

    get_client().drop_database(settings.MONGODB_DB)


def create_products(count: int) -> list[dict]:
    from catalog import services as catalog_services

    rng = random.Random(1)
    items = [
        {
            "name": f"Product {i:04d}",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "price_cents": rng.randint(99, 19_999),
            "stock": 1_000_000_000,
        }
        for i in range(count)
    ]
    return catalog_services.products_create_bulk(items=items, user_id=None)


def existing_products() -> list[dict]:
    """The products of a kept database (created by an earlier run), oldest first."""
    from catalog.repository import products

    return sorted(products().find({}), key=lambda doc: doc["_id"])


def stored_orders() -> int:
    """The kept database's orders, from the sales figures: any count over a million orders
    (a pipeline, or FerretDB's `count`) outlasts the socket timeout on FerretDB."""
    from orders import sales, services

    services.sales_summaries_refresh()
    found = sales.window(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC), lines=())
    return found.totals["orders"]


def import_orders(count: int, *, product_ids, customers: int, days: int, batch: int, rng) -> float:
    """Place `count` past-dated orders through the services; returns seconds."""
    from catalog.exceptions import StockLockBusy
    from orders import services

    now = datetime.now(UTC)
    span = days * 86_400
    times = sorted(now - timedelta(seconds=rng.uniform(60, span)) for _ in range(count))
    started = time.perf_counter()
    for first in range(0, count, batch):
        # A few products per batch: each product's stock is taken once per batch (a locked
        # read-then-replace on FerretDB), so this is what makes a bulk import fast.
        chosen = rng.sample(product_ids, min(len(product_ids), 8))
        orders = [
            {
                "customer": f"customer-{rng.randrange(customers):05d}",
                "created_at": created,
                "items": [
                    {"product_id": str(pid), "quantity": rng.randint(1, 3)}
                    for pid in rng.sample(chosen, rng.randint(1, 3))
                ],
            }
            for created in times[first : first + batch]
        ]
        for attempt in range(5):
            try:
                services.orders_place_bulk(orders=orders, user_id=None)
                break
            except StockLockBusy:  # nothing was placed (a 503 to an API client): retry
                if attempt == 4:
                    raise
    return time.perf_counter() - started


def refresh_summaries() -> float:
    from orders import services

    started = time.perf_counter()
    services.sales_summaries_refresh()
    return time.perf_counter() - started


# The pages' own staff user: one session per user, so the API's token user cannot also be the
# browser's.
PAGE_USER = f"bench-pages-{os.getpid()}"


def create_page_user() -> None:
    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username=PAGE_USER)
    user.is_staff = True
    user.set_password(bench_server.PASSWORD)
    user.save()


def dashboard_cookie(url: str) -> str:
    """Log in through the dashboard's form; the Cookie header of that browser session."""
    with httpx.Client(base_url=url, follow_redirects=False, timeout=60) as client:
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/accounts/login/",
            data={
                "username": PAGE_USER,
                "password": bench_server.PASSWORD,
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": url + "/accounts/login/"},
        )
        if response.status_code != 302:
            sys.exit(f"dashboard login failed: {response.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


AUTH: dict[str, str] = {}  # the bench user's bearer header, renewed when a session is lost


def login(url: str) -> None:
    """A fresh bearer token for the bench user: another benchmark on this machine may end our
    session (one session per user, and the benches share a Redis database)."""
    body = {"username": bench_server.USERNAME, "password": bench_server.PASSWORD}
    response = httpx.post(url + "/auth/login/", json=body, timeout=60)
    response.raise_for_status()
    AUTH["Authorization"] = f"Bearer {response.json()['session_token']}"


def get_json(url: str, path: str):
    for _ in range(3):
        response = httpx.get(url + path, headers=AUTH, timeout=600)
        if response.status_code != 401:
            response.raise_for_status()
            return response.json()
        login(url)
    raise SystemExit(f"GET {path}: 401 after logging in again")


def reads(url: str, *, product: dict, customer: str) -> list[tuple[str, str, str]]:
    """(label, method, path) of every timed read, with ids of this data set."""
    first = get_json(url, "/orders/?days=30&page_size=50")
    last_page = max(1, -(-first["count"] // 50))
    order_id = get_json(url, "/orders/recent/?limit=1")[0]["id"]
    found = [
        ("products by category", "GET", f"/products/?category={product['category']}"),
        ("product", "GET", f"/products/{product['_id']}/"),
        ("orders page 1 (30 days)", "GET", "/orders/?days=30"),
        ("orders deep page (30 days, last)", "GET", f"/orders/?days=30&page={last_page}"),
        ("orders of a customer (365 days)", "GET", f"/orders/?days=365&customer={customer}"),
        ("orders recent", "GET", "/orders/recent/"),
        ("order", "GET", f"/orders/{order_id}/"),
    ]
    for days in (30, 365):
        for by in ("", "product", "category", "day"):
            end = datetime.now(UTC)
            query = f"?start={(end - timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            query += f"&by={by}" if by else ""
            found.append((f"stats sold {days}d {by or 'plain'}", "GET", "/stats/sold/" + query))
    found += [
        ("stats customer", "GET", f"/stats/customer/{customer}"),
        ("POST /orders/", "POST", "/orders/"),
        ("POST /orders/{id}/cancel/", "CANCEL", "/orders/{id}/cancel/"),
        ("stats sold 30d day, after cancels", "GET", "/stats/sold/?by=day"),
        ("page home", "PAGE", "/dashboard/"),
        (
            "page products by category",
            "PAGE",
            f"/dashboard/products/?category={product['category']}",
        ),
        ("page orders recent", "PAGE", "/dashboard/orders/"),
        ("page orders 30 days", "PAGE", "/dashboard/orders/last-30-days/"),
        ("page order", "PAGE", f"/dashboard/orders/{order_id}/"),
        ("page sales (30 days)", "PAGE", "/dashboard/sales/"),
        ("page sales customer", "PAGE", f"/dashboard/sales/?customer={customer}"),
    ]
    return found


class SessionLost(Exception):
    pass


def time_read(url, cookie, method, path, *, repeat: int, product_ids) -> list[float]:
    """`repeat` sequential requests after one warm-up; their latencies in ms."""
    rng = random.Random(len(path))
    # A cancel needs a placed order each time: the newest placed ones (one page holds enough).
    placed = []
    if method == "CANCEL":
        page = get_json(url, f"/orders/?days=30&status=placed&page_size={repeat + 1}")
        placed = [order["id"] for order in page["results"]]

    async def make(client: httpx.AsyncClient):
        headers = {"Cookie": cookie} if method == "PAGE" else dict(AUTH)
        if method == "CANCEL":
            response = await client.post(
                path.format(id=placed.pop()), json={"reason": "bench"}, headers=headers
            )
            expected = 200
        elif method == "POST":
            pid = str(rng.choice(product_ids))
            body = {"customer": "bench-post", "items": [{"product_id": pid, "quantity": 1}]}
            response = await client.post(path, json=body, headers=headers)
            expected = 201
        else:
            response = await client.get(path, headers=headers)
            expected = 200
        if response.status_code == 401 and method != "PAGE":
            raise SessionLost
        if response.status_code != expected:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    for _ in range(3):
        try:
            asyncio.run(bench_server.http_phase(url, {}, 1, 1, make, timeout=600))  # warm-up
            latencies, _, _ = asyncio.run(
                bench_server.http_phase(url, {}, repeat, 1, make, timeout=600)
            )
            return latencies
        except SessionLost:
            login(url)
    raise SystemExit(f"{method} {path}: 401 after logging in again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="order counts, ascending")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per read and size")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365, help="orders spread over the last N days")
    parser.add_argument("--batch", type=int, default=1000, help="orders per import call")
    parser.add_argument("--db", default="shop_bench_growth")
    parser.add_argument(
        "--redis-url", default=bench_server.BENCH_ENV["REDIS_URL"], help="sessions, locks, outbox"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--keep", action="store_true",
        help="keep the database and its products; import only what each size still lacks",
    )  # fmt: skip
    parser.add_argument(
        "--import-only", action="store_true", help="import up to the largest size, time nothing"
    )
    parser.add_argument(
        "--after-import", type=int, default=0, metavar="N",
        help="at each size, after timing the settled reads, import N more past-dated orders in "
        "bulks of --import-batch and time every read again at once",
    )  # fmt: skip
    parser.add_argument("--import-batch", type=int, default=500)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    bench_server.BENCH_ENV["REDIS_URL"] = args.redis_url
    configure(args.db)
    if not args.keep:
        reset_database()
    bench_server.prepare()
    create_page_user()
    products = existing_products() if args.keep else []
    products = products or create_products(args.products)
    product_ids = [doc["_id"] for doc in products]
    worker = subprocess.Popen(
        [sys.executable, str(bench_server.ROOT / "manage.py"), "eventlog_worker"],
        env=bench_server.bench_env(),
        stdout=subprocess.DEVNULL,
    )
    rng = random.Random(args.seed)
    results: dict[str, dict[int, list[float]]] = {}
    after: dict[str, dict[int, list[float]]] = {}  # at once after an --after-import import
    imported = stored_orders() if args.keep else 0
    try:
        for size in sizes:
            missing = max(0, size - imported)
            seconds = import_orders(
                missing, product_ids=product_ids, customers=args.customers,
                days=args.days, batch=args.batch, rng=rng,
            )  # fmt: skip
            rate = missing / seconds if seconds else float("inf")
            imported = max(imported, size)
            # Import only: the timing run (--keep) brings the summaries up to date itself.
            refreshed = 0.0 if args.import_only else refresh_summaries()
            print(
                f"{size:,} orders: imported {rate:,.0f} orders/s through the services; "
                f"summaries brought up to date in {refreshed:.1f} s; load {os.getloadavg()}",
                flush=True,
            )
            if args.import_only:
                continue
            with bench_server.production_server(workers=2) as srv:
                if not srv.auth:
                    sys.exit("could not log in through /auth/login/")
                cookie = dashboard_cookie(srv.url)
                AUTH.update(srv.auth)
                cases = reads(srv.url, product=products[0], customer="customer-00001")
                for label, method, path in cases:
                    latencies = time_read(
                        srv.url, cookie, method, path, repeat=args.repeat, product_ids=product_ids
                    )
                    results.setdefault(label, {})[size] = latencies
                if args.after_import:
                    seconds = import_orders(
                        args.after_import, product_ids=product_ids, customers=args.customers,
                        days=args.days, batch=args.import_batch, rng=rng,
                    )  # fmt: skip
                    imported += args.after_import
                    print(
                        f"  then {args.after_import:,} more in bulks of {args.import_batch} "
                        f"({args.after_import / seconds:,.0f} orders/s), every read timed at once; "
                        f"load {os.getloadavg()}",
                        flush=True,
                    )
                    for label, method, path in cases:
                        latencies = time_read(
                            srv.url, cookie, method, path, repeat=args.repeat,
                            product_ids=product_ids,
                        )  # fmt: skip
                        after.setdefault(label, {})[size] = latencies
    finally:
        worker.terminate()
        worker.wait(timeout=120)  # it finishes the summary refresh it is in
    if results:
        print_table(results, sizes)
    if after:
        print_after(results, after, sizes)


def print_table(results: dict[str, dict[int, list[float]]], sizes: list[int]) -> None:
    head = f"{'read (p50 ms, max in brackets)':36}" + "".join(f"{s:>18,}" for s in sizes)
    print(head + f"{'largest/smallest':>18}")
    print("-" * (len(head) + 18))
    for label, by_size in results.items():
        medians = {size: statistics.median(values) for size, values in by_size.items()}
        cells = "".join(
            f"{medians[size]:>10.1f} [{max(by_size[size]):>6.0f}]" if size in medians else " " * 18
            for size in sizes
        )
        ratio = max(medians.values()) / max(min(medians.values()), 0.001)
        print(f"{label:36}{cells}{ratio:>17.2f}x")


def print_after(settled, after, sizes: list[int]) -> None:
    """Each read settled and at once after the import, p50 ms and their ratio, per size."""
    print()
    head = f"{'read (p50 ms)':36}" + "".join(
        f"{f'{s:,} settled':>16}{'after import':>14}{'ratio':>8}" for s in sizes
    )
    print(head)
    print("-" * len(head))
    for label, by_size in after.items():
        cells = ""
        for size in sizes:
            before = statistics.median(settled[label][size])
            then = statistics.median(by_size[size])
            cells += f"{before:>16.1f}{then:>14.1f}{then / max(before, 0.001):>7.2f}x"
        print(f"{label:36}{cells}")


if __name__ == "__main__":
    main()
