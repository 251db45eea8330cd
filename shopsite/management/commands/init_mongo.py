"""Create the MongoDB collections and indexes the queries use (idempotent)."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand

from shopsite import ferretdb_pg
from shopsite.mongo import ensure_collection, get_db


def repositories(*, derived: bool = False) -> list:
    """Every installed app's MongoDB repositories, named by its AppConfig's `mongo_repositories`
    (dotted paths, so the base imports no app). Each names its COLLECTION, creates its own
    indexes (`ensure_indexes()`) and may list in EQUALITY_FIELDS the top-level fields its reads
    match by equality. `mongo_derived_repositories` name modules whose ALL lists objects with
    the same attributes for derived collections (the sales summaries): never backed up, so a
    restore neither drops them nor has to recreate their indexes (only with derived=True)."""
    found: list = []
    for config in apps.get_app_configs():
        found += [import_module(path) for path in getattr(config, "mongo_repositories", ())]
        if derived:
            for path in getattr(config, "mongo_derived_repositories", ()):
                found += import_module(path).ALL
    return found


def ensure_gin_indexes(*, derived: bool = False) -> dict[str, list[str]]:
    """FerretDB/PostgreSQL only (else {}): GIN indexes serving equality on EQUALITY_FIELDS.
    Also run after a restore: dropping a collection drops them."""
    db = get_db()
    created = {}
    for repository in repositories(derived=derived):
        fields = getattr(repository, "EQUALITY_FIELDS", [])
        if not fields:
            continue
        if names := ferretdb_pg.ensure_gin_indexes(db.name, repository.COLLECTION, fields):
            created[repository.COLLECTION] = names
    return created


def obsolete_collections() -> list[str]:
    """Derived collections earlier versions kept (each derived module's OBSOLETE): dropped."""
    found: list[str] = []
    for config in apps.get_app_configs():
        for path in getattr(config, "mongo_derived_repositories", ()):
            found += getattr(import_module(path), "OBSOLETE", [])
    return found


def init_mongo() -> dict[str, list[str]]:
    db = get_db()
    created: dict[str, list[str]] = {}
    for name in obsolete_collections():
        db.drop_collection(name)  # nothing to do when it is gone
    for repository in repositories(derived=True):
        ensure_collection(db, repository.COLLECTION)
        created[repository.COLLECTION] = repository.ensure_indexes()
    for collection, names in ensure_gin_indexes(derived=True).items():
        created[collection] += names
    initialize_derived()
    return created


def initialize_derived() -> None:
    """Let each derived module set up a new store's state (its `initialize()`, if it has one)."""
    for config in apps.get_app_configs():
        for path in getattr(config, "mongo_derived_repositories", ()):
            getattr(import_module(path), "initialize", lambda: None)()


class Command(BaseCommand):
    help = "Create MongoDB collections and indexes (safe to run again)."

    def handle(self, *args, **options):
        for collection, names in init_mongo().items():
            self.stdout.write(f"{collection}: indexes {', '.join(names)}")
