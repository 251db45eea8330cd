"""CSV export of N orders through HTTP (gunicorn): time, rows, bytes and the server's peak RSS.

    .venv/bin/python -m bench.csv_export --orders 10000 100000 [--products 200]

For each size: a bench database with that many orders (bench_backups.seed: 1-4 items each, spread
over a year), a fresh gunicorn (one worker), then GET /orders/?days=3650&format=csv streamed to
the client. Peak RSS is the worker's VmHWM (kernel's high-water mark) after the export, next to
its RSS before: with a streamed export it stays flat as the number of rows grows.
"""

import argparse
import time
from pathlib import Path

import httpx

from bench import server as bench_server
from bench.server import BENCH_ENV, production_server, setup_django

BENCH_ENV["MONGODB_DB"] = "shop_bench_csv"


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _worker_pid(master: int) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def export_once(orders: int, products: int) -> dict:
    from bench.bench_backups import seed
    from orders import sales
    from shopsite.mongo import get_db

    seed(get_db(), orders, products)
    # Inserted behind the repository's back: rebuild the sales summaries (the per-day counts the
    # list walks), as an operator runs rebuild_summaries after such an import.
    sales.rebuild()
    with production_server(workers=1, threads=2) as server:
        httpx.get(server.url + "/orders/?page_size=1", headers=server.auth)  # warm the worker
        worker = _worker_pid(server.process.pid)
        rss_before = _status_kb(worker, "VmRSS")
        rows = size = 0
        started = time.perf_counter()
        first_byte = None
        with httpx.stream(
            "GET",
            server.url + "/orders/?days=3650&format=csv",
            headers=server.auth,
            timeout=600,
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                rows += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
        peak = _status_kb(worker, "VmHWM")
    return {
        "orders": orders,
        "rows": rows - 1,
        "mb": size / 1e6,
        "seconds": elapsed,
        "first_byte_s": first_byte or 0.0,
        "rss_before_mb": rss_before / 1024,
        "peak_rss_mb": peak / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    results = [export_once(n, args.products) for n in args.orders]
    print(
        f"{'orders':>8} {'rows':>8} {'MB':>7} {'seconds':>8} {'1st byte s':>10} "
        f"{'rows/s':>8} {'RSS before MB':>14} {'peak RSS MB':>12}"
    )
    for r in results:
        print(
            f"{r['orders']:>8} {r['rows']:>8} {r['mb']:>7.1f} {r['seconds']:>8.2f} "
            f"{r['first_byte_s']:>10.2f} {r['rows'] / r['seconds']:>8.0f} "
            f"{r['rss_before_mb']:>14.1f} {r['peak_rss_mb']:>12.1f}"
        )
    from shopsite.mongo import get_client

    get_client().drop_database(bench_server.BENCH_ENV["MONGODB_DB"])


if __name__ == "__main__":
    main()
