"""Create the MongoDB collections and indexes the queries use (idempotent)."""

import contextlib

from django.core.management.base import BaseCommand
from pymongo.errors import CollectionInvalid

from catalog import repository as catalog_repository
from orders import purchase_repository
from orders import repository as orders_repository
from shopsite.mongo import get_db

# Each repository names its COLLECTION and creates its own indexes.
REPOSITORIES = [catalog_repository, orders_repository, purchase_repository]


def init_mongo() -> dict[str, list[str]]:
    db = get_db()
    created: dict[str, list[str]] = {}
    for repository in REPOSITORIES:
        with contextlib.suppress(CollectionInvalid):  # exists already
            db.create_collection(repository.COLLECTION)
        created[repository.COLLECTION] = repository.ensure_indexes()
    return created


class Command(BaseCommand):
    help = "Create MongoDB collections and indexes (safe to run again)."

    def handle(self, *args, **options):
        for collection, names in init_mongo().items():
            self.stdout.write(f"{collection}: indexes {', '.join(names)}")
