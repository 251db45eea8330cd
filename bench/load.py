"""Load test: C concurrent clients for D seconds against gunicorn, mixing the main endpoints.

    .venv/bin/python -m bench.load --clients 50 --seconds 60

Reports throughput, p50/p95/p99 latency and errors per endpoint, and each backend's connection
count sampled through the run (a leak shows as growth).
"""

import argparse
import asyncio
import random
import subprocess
import time
from collections import defaultdict

import httpx

from bench.procs import BACKEND_PORTS
from bench.server import percentile, production_server


def backend_connections() -> dict[str, int]:
    """Established client connections to each backend on this machine (from `ss`)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established"], capture_output=True, text=True, check=True
    ).stdout
    counts = dict.fromkeys(BACKEND_PORTS, 0)
    for line in out.splitlines():
        peer_port = int(line.split()[-1].rsplit(":", 1)[1])
        for name, port in BACKEND_PORTS.items():
            if peer_port == port:
                counts[name] += 1
    return counts


async def seed(client: httpx.AsyncClient, products: int, stock: int = 1_000_000) -> list[str]:
    body = [
        {
            "name": f"Load product {i}",
            "category": f"cat-{i % 5}",
            "price": f"{random.randint(100, 9999) / 100:.2f}",
            "stock": stock,
        }
        for i in range(products)
    ]
    response = await client.post("/products/", json=body)
    response.raise_for_status()
    return [p["id"] for p in response.json()]


def pick_request(product_ids: list[str]) -> tuple[str, str, str, dict | None]:
    """(label, method, path, json body): a mix weighted like a shop's traffic."""
    roll = random.random()
    if roll < 0.30:
        return "GET /products/", "GET", "/products/?page_size=20", None
    if roll < 0.45:
        pid = random.choice(product_ids)
        return "GET /products/{id}/", "GET", f"/products/{pid}/", None
    if roll < 0.65:
        items = [
            {"product_id": pid, "quantity": random.randint(1, 3)}
            for pid in random.sample(product_ids, 2)
        ]
        body = {"customer": f"customer-{random.randint(1, 200)}", "items": items}
        return "POST /orders/", "POST", "/orders/", body
    if roll < 0.80:
        return "GET /orders/recent/", "GET", "/orders/recent/?limit=20", None
    if roll < 0.90:
        return "GET /stats/sold/", "GET", "/stats/sold/", None
    if roll < 0.95:
        return "GET /logs/", "GET", "/logs/?event_type=order_created&hours=1&limit=50", None
    return "GET /healthz", "GET", "/healthz", None


async def run(url: str, headers: dict, clients: int, seconds: float, products: int):
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=timeout
    ) as client:
        product_ids = await seed(client, products)
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        statuses: dict[int, int] = defaultdict(int)
        deadline = time.monotonic() + seconds

        async def worker():
            while time.monotonic() < deadline:
                label, method, path, body = pick_request(product_ids)
                started = time.perf_counter()
                try:
                    response = await client.request(method, path, json=body)
                    code = response.status_code
                except httpx.HTTPError:
                    code = 0
                latencies[label].append((time.perf_counter() - started) * 1000)
                statuses[code] += 1
                if code == 0 or code >= 500:
                    errors[label] += 1

        samples: list[dict] = []

        async def sampler():
            while time.monotonic() < deadline:
                samples.append(backend_connections())
                await asyncio.sleep(seconds / 6)

        started = time.monotonic()
        await asyncio.gather(sampler(), *(worker() for _ in range(clients)))
        elapsed = time.monotonic() - started
    return latencies, errors, statuses, elapsed, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    args = parser.parse_args()

    random.seed(7)
    with production_server(workers=args.workers) as server:
        if not server.token:
            raise SystemExit("could not log in to the bench server")
        latencies, errors, statuses, elapsed, samples = asyncio.run(
            run(server.url, server.auth, args.clients, args.seconds, args.products)
        )

    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    print(f"{args.clients} clients, {elapsed:.1f} s, {args.workers} gunicorn workers x 4 threads")
    print(
        f"requests {total}, throughput {total / elapsed:.1f} req/s, errors {sum(errors.values())}"
    )
    print(
        f"all: p50 {percentile(every, 50):.1f} ms  p95 {percentile(every, 95):.1f} ms  "
        f"p99 {percentile(every, 99):.1f} ms"
    )
    print(f"{'endpoint':24} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for label, values in sorted(latencies.items()):
        print(
            f"{label:24} {len(values):7d} {percentile(values, 50):8.1f} "
            f"{percentile(values, 95):8.1f} {percentile(values, 99):8.1f} {errors[label]:6d}"
        )
    print("status codes:", dict(sorted(statuses.items())))
    # A leak shows as growth from sample to sample; the first may predate the pools' warm-up.
    print("backend connections during the run (every ~1/6 of it):")
    for name in BACKEND_PORTS:
        print(f"  {name:10}", " ".join(str(sample[name]) for sample in samples))


if __name__ == "__main__":
    main()
