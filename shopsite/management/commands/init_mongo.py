"""Create the MongoDB collections and indexes the queries use (idempotent)."""

import contextlib

from django.core.management.base import BaseCommand
from pymongo.errors import CollectionInvalid

from catalog import repository as catalog_repository
from orders import purchase_repository
from orders import repository as orders_repository
from shopsite import ferretdb_pg
from shopsite.mongo import get_db

# Each repository names its COLLECTION and creates its own indexes; it may list in
# EQUALITY_FIELDS the top-level fields its reads match by equality.
REPOSITORIES = [catalog_repository, orders_repository, purchase_repository]


def ensure_gin_indexes() -> dict[str, list[str]]:
    """FerretDB/PostgreSQL only (else {}): GIN indexes serving equality on EQUALITY_FIELDS.
    Also run after a restore: dropping a collection drops them."""
    db = get_db()
    created = {}
    for repository in REPOSITORIES:
        fields = getattr(repository, "EQUALITY_FIELDS", [])
        if not fields:
            continue
        if names := ferretdb_pg.ensure_gin_indexes(db.name, repository.COLLECTION, fields):
            created[repository.COLLECTION] = names
    return created


def init_mongo() -> dict[str, list[str]]:
    db = get_db()
    created: dict[str, list[str]] = {}
    for repository in REPOSITORIES:
        with contextlib.suppress(CollectionInvalid):  # exists already
            db.create_collection(repository.COLLECTION)
        created[repository.COLLECTION] = repository.ensure_indexes()
    for collection, names in ensure_gin_indexes().items():
        created[collection] += names
    return created


class Command(BaseCommand):
    help = "Create MongoDB collections and indexes (safe to run again)."

    def handle(self, *args, **options):
        for collection, names in init_mongo().items():
            self.stdout.write(f"{collection}: indexes {', '.join(names)}")
