"""Backup and restore times and archive size for N orders (real mongodump/mongorestore).

    .venv/bin/python -m bench.bench_backups [--orders 10000] [--products 200] [--keep]

Inserts orders in the agreed shape (helper-datamodel) with pymongo into a bench database of its
own (MONGODB_DB=shop_bench_backups), then times `backup_mongo` (mongodump --archive --gzip, read
back, sha256) and `restore_mongo` (verify, mongorestore --drop, indexes, count check).
"""

import argparse
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = Path("/var/tmp/shopsite-cache/bin")
BENCH_DB = "shop_bench_backups"


def _configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    os.environ.setdefault("SHOPSITE_ALLOW_INSECURE_KEY", "1")
    os.environ["MONGODB_DB"] = BENCH_DB
    os.environ["BACKUP_DIR"] = str(ROOT / ".services" / "bench-backups")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for name in ("mongodump", "mongorestore"):
        key = f"{name.upper()}_BIN"
        if key not in os.environ and not shutil.which(name) and (TOOLS_DIR / name).exists():
            os.environ[key] = str(TOOLS_DIR / name)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(db, orders: int, products: int, batch: int = 1000) -> float:
    from orders.documents import order_document
    from shopsite.management.commands.init_mongo import init_mongo

    rng = random.Random(42)
    db.client.drop_database(db.name)
    init_mongo()  # every collection's indexes, and the GIN indexes on FerretDB/PostgreSQL
    start = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    catalog = []
    for i in range(products):
        price = rng.randint(100, 50_000)
        doc = {
            "name": f"Product {i}",
            "name_lower": f"product {i}",
            "category": f"category-{i % 12}",
            "price_cents": price,
            "stock": rng.randint(0, 1000),
            "available": True,
            "description": "",
            "created_at": now,
            "updated_at": now,
        }
        doc["_id"] = db.products.insert_one(doc).inserted_id
        catalog.append(doc)
    pending = []
    for i in range(orders):
        created = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        lines = [(product, rng.randint(1, 5)) for product in rng.sample(catalog, rng.randint(1, 4))]
        pending.append(
            order_document(
                customer=f"customer-{rng.randint(1, max(1, orders // 10))}",
                lines=lines,
                created_at=created,
                created_by="1",
            )
        )
        if len(pending) >= batch or i == orders - 1:
            db.orders.insert_many(pending, ordered=False)
            pending = []
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the bench database and backups")
    args = parser.parse_args()

    _configure()
    from django.conf import settings

    from backups import repository, services
    from shopsite.mongo import get_client, get_db

    backup_dir = Path(settings.BACKUP_DIR)
    shutil.rmtree(backup_dir, ignore_errors=True)
    db = get_db()
    insert_s = seed(db, args.orders, args.products)
    data_size = db.command("dbStats").get("dataSize", 0)

    start = time.perf_counter()
    manifest = services.backup_run()
    backup_s = time.perf_counter() - start
    name = manifest["name"]

    start = time.perf_counter()
    services.backup_verify(name=name)
    verify_s = time.perf_counter() - start

    db.drop_collection("orders")  # lose the orders; the restore must bring every one back
    start = time.perf_counter()
    status = services.restore_run(name=name)
    restore_s = time.perf_counter() - start
    assert repository.collection_count("orders") == args.orders, "restore lost orders"
    assert status["collections"]["orders"] == args.orders

    size = manifest["size_bytes"]
    print(
        f"orders={args.orders} products={args.products} server data size={data_size / 1e6:.1f} MB"
    )
    print(f"{'step':<32}{'seconds':>10}")
    print(f"{'insert (pymongo, not timed)':<32}{insert_s:>10.2f}")
    print(f"{'backup_mongo (dump+check+sha)':<32}{backup_s:>10.2f}")
    print(f"{'verify (sha256 + full read)':<32}{verify_s:>10.2f}")
    print(f"{'restore_mongo (verify+restore)':<32}{restore_s:>10.2f}")
    print(f"archive {name}: {size:,} bytes ({size / 1e6:.2f} MB), {size / args.orders:.0f} B/order")

    if not args.keep:
        get_client().drop_database(BENCH_DB)
        shutil.rmtree(backup_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
