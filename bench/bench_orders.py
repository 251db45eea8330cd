"""Orders: POST /orders/ and GET /orders/recent/ through HTTP (gunicorn) vs the same database
work done directly with pymongo in one process.

    .venv/bin/python -m bench.bench_orders --products 200 --orders 1000 --clients 8

HTTP: N products created with bulk POST /products/, then M orders placed by --clients concurrent
clients (1-3 random items each; stock is large so none is refused), then --recent GET
/orders/recent/. Direct (one thread): the same products, the same orders as the bare pymongo
calls a purchase needs (read each product, guarded $inc per item, insert the order) and the
same recent query (find, sort created_at desc, limit 100). A middle row places the orders
through orders.services.order_place in-process (adds the per-product Redis locks and events),
to split the HTTP overhead from the locking. API / direct is the figure to quote.
"""

import argparse
import asyncio
import contextlib
import os
import random
import time

import httpx

from bench.server import (
    BENCH_ENV,
    http_phase,
    manage,
    percentile,
    production_server,
    setup_django,
)

# A database of its own: other benchmarks may be using shop_bench at the same time, and this one
# empties its collections. (BENCH_ENV is read when the server starts and by setup_django.)
BENCH_ENV["MONGODB_DB"] = "shop_bench_orders"

# A user of its own: logging in replaces a user's session, so sharing the bench admin with a
# benchmark running at the same time would invalidate this one's token.
USERNAME, PASSWORD = "bench-orders", "bench-" + "orders-" + "pass-0123456789"

HEADER = f"{'operation':<44} {'ops':>6} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}"


def row(label: str, count: int, elapsed: float, latencies_ms: list[float]) -> dict:
    return {
        "label": label,
        "count": count,
        "rate": count / elapsed if elapsed else float("nan"),
        "p50": percentile(latencies_ms, 50),
        "p99": percentile(latencies_ms, 99),
    }


def fmt(r: dict) -> str:
    return (
        f"{r['label']:<44} {r['count']:>6} {r['rate']:>9.1f} {r['p50']:>8.2f} {r['p99']:>8.2f}"
        + (f"  {r['note']}" if r.get("note") else "")
    )


def wipe() -> None:
    from shopsite.mongo import get_db

    db = get_db()
    db["products"].delete_many({})
    db["orders"].delete_many({})


def product_specs(count: int) -> list[dict]:
    return [
        {
            "name": f"Bench product {i}",
            "category": f"cat{i % 10}",
            "price": f"{random.randint(1, 20000) / 100:.2f}",
            "stock": 1_000_000,
        }
        for i in range(count)
    ]


def order_specs(product_ids: list[str], count: int) -> list[dict]:
    orders = []
    for i in range(count):
        chosen = random.sample(product_ids, k=min(len(product_ids), random.randint(1, 3)))
        items = [{"product_id": pid, "quantity": random.randint(1, 3)} for pid in chosen]
        orders.append({"customer": f"customer{i % 50}", "items": items})
    return orders


def http_run(url, headers, requests: list[tuple[str, str, object]], clients: int):
    """Send (method, path, json) requests with `clients` concurrent connections, in order."""
    queue = list(reversed(requests))

    def send(client):
        method, path, body = queue.pop()
        return client.request(method, path, json=body)

    return http_phase(url, headers, len(requests), clients, send)


def _with_statuses(r: dict, statuses: dict, ok: int) -> dict:
    bad = {code: n for code, n in statuses.items() if code != ok}
    if bad:
        r["note"] = f"non-{ok}: {bad}"
    return r


def bench_http(args) -> tuple[list[dict], list[str]]:
    rows = []
    with production_server(workers=args.workers) as server:
        if not server.token:
            raise SystemExit("could not log in to the bench server (POST /auth/login/)")
        manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            f"u, _ = User.objects.get_or_create(username={USERNAME!r});"
            f"u.is_staff = True; u.set_password({PASSWORD!r}); u.save()",
        )
        login = httpx.post(
            server.url + "/auth/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        if login.status_code != 200:
            raise SystemExit(f"could not log in as {USERNAME}: {login.status_code}")
        server.auth = {"Authorization": f"Bearer {login.json()['session_token']}"}
        setup_django()
        wipe()
        with httpx.Client(base_url=server.url, headers=server.auth, timeout=120) as client:
            specs = product_specs(args.products)
            t0 = time.perf_counter()
            ids = []
            for start in range(0, len(specs), 1000):
                response = client.post("/products/", json=specs[start : start + 1000])
                if response.status_code != 201:
                    raise SystemExit(f"bulk create failed: {response.status_code}")
                ids += [p["id"] for p in response.json()]
            elapsed = time.perf_counter() - t0
            rows.append(row("HTTP POST /products/ (bulk, products/s)", len(ids), elapsed, []))
        orders = order_specs(ids, args.orders)
        latencies, statuses, elapsed = asyncio.run(
            http_run(
                server.url, server.auth, [("POST", "/orders/", o) for o in orders], args.clients
            )
        )
        rows.append(
            _with_statuses(
                row("HTTP POST /orders/", len(latencies), elapsed, latencies), statuses, 201
            )
        )
        latencies, statuses, elapsed = asyncio.run(
            http_run(
                server.url,
                server.auth,
                [("GET", "/orders/recent/", None)] * args.recent,
                args.clients,
            )
        )
        rows.append(
            _with_statuses(
                row("HTTP GET /orders/recent/ (100 orders)", len(latencies), elapsed, latencies),
                statuses,
                200,
            )
        )
    return rows, ids


def bench_service(args) -> list[dict]:
    """order_place in this process: validation skipped, locks and events included."""
    setup_django()
    from orders import services

    wipe()
    from catalog import services as catalog_services

    docs = catalog_services.products_create_bulk(
        items=[
            {**spec, "price_cents": int(round(float(spec.pop("price")) * 100))}
            for spec in product_specs(args.products)
        ],
        user_id=None,
    )
    ids = [str(d["_id"]) for d in docs]
    latencies = []
    started = time.perf_counter()
    for order in order_specs(ids, args.orders):
        t0 = time.perf_counter()
        services.order_place(customer=order["customer"], items=order["items"], user_id=None)
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    return [row("service order_place, 1 thread", len(latencies), elapsed, latencies)]


def bench_direct(args) -> list[dict]:
    """The bare pymongo work of a purchase and of the recent list, one thread."""
    setup_django()
    from bson import ObjectId
    from pymongo import DESCENDING, ReturnDocument

    from orders.documents import order_document
    from shopsite.mongo import get_db
    from shopsite.timeutil import utcnow

    wipe()
    db = get_db()
    products, orders = db["products"], db["orders"]
    now = utcnow()
    docs = [
        {
            "name": spec["name"], "name_lower": spec["name"].lower(), "category": spec["category"],
            "price_cents": int(round(float(spec["price"]) * 100)), "stock": spec["stock"],
            "available": True, "description": "", "created_at": now, "updated_at": now,
        }
        for spec in product_specs(args.products)
    ]  # fmt: skip
    t0 = time.perf_counter()
    products.insert_many(docs)
    rows = [
        row("direct insert_many products (products/s)", len(docs), time.perf_counter() - t0, [])
    ]
    ids = [str(d["_id"]) for d in docs]

    latencies = []
    started = time.perf_counter()
    for order in order_specs(ids, args.orders):
        t0 = time.perf_counter()
        oids = [ObjectId(i["product_id"]) for i in order["items"]]
        # As catalog.repository.find_by_ids does for a few ids (see there why).
        found = [products.find_one({"_id": oid}) for oid in oids]
        assert all(found)
        lines = []
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            doc = products.find_one_and_update(
                {"_id": oid, "available": True, "stock": {"$gte": item["quantity"]}},
                {"$inc": {"stock": -item["quantity"]}, "$set": {"updated_at": utcnow()}},
                return_document=ReturnDocument.AFTER,
            )
            lines.append((doc, item["quantity"]))
        orders.insert_one(
            order_document(customer=order["customer"], lines=lines, created_at=utcnow())
        )
        latencies.append((time.perf_counter() - t0) * 1000)
    rows.append(
        row(
            "direct purchase (pymongo), 1 thread",
            len(latencies),
            time.perf_counter() - started,
            latencies,
        )
    )

    latencies = []
    started = time.perf_counter()
    for _ in range(args.recent):
        t0 = time.perf_counter()
        found = list(orders.find({}).sort([("created_at", DESCENDING)]).limit(100))
        latencies.append((time.perf_counter() - t0) * 1000)
    rows.append(
        row(
            "direct recent find (pymongo), 1 thread",
            len(latencies),
            time.perf_counter() - started,
            latencies,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--recent", type=int, default=200, help="GET /orders/recent/ requests")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (x 4 threads)")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    random.seed(7)

    phases = [bench_service, bench_direct]
    if not args.skip_http:
        phases.insert(0, lambda a: bench_http(a)[0])
    rows = []
    try:
        for phase in phases:
            rows += phase(args)
    finally:
        # Another engineer's fault test may stop a service mid-run: report what finished.
        report(args, rows)
        setup_django()
        from shopsite.mongo import get_client

        with contextlib.suppress(Exception):
            get_client().drop_database(BENCH_ENV["MONGODB_DB"])


def report(args, rows: list[dict]) -> None:
    by_label = {r["label"]: r for r in rows}
    print(
        f"cpus {os.cpu_count()}, gunicorn {args.workers} workers x 4 threads, "
        f"{args.clients} HTTP clients, {args.products} products, {args.orders} orders"
    )
    print(HEADER)
    for r in rows:
        print(fmt(r))
    pairs = [
        ("POST /orders/", "HTTP POST /orders/", "direct purchase (pymongo), 1 thread"),
        ("GET /orders/recent/", "HTTP GET /orders/recent/ (100 orders)",
         "direct recent find (pymongo), 1 thread"),
    ]  # fmt: skip
    for name, api, direct in pairs:
        if api in by_label and direct in by_label:
            a, d = by_label[api], by_label[direct]
            print(
                f"{name}: API/direct throughput {a['rate'] / d['rate']:.2f}x, "
                f"p50 latency {a['p50'] / d['p50']:.2f}x, p99 latency {a['p99'] / d['p99']:.2f}x"
            )


if __name__ == "__main__":
    main()
