"""Create the event log's keyspace and tables, and fill a table added since (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from eventlog.manager import CassandraLogManager
from eventlog.schema import schema_statements
from shopsite.cassandra_client import get_session


def init_cassandra(keyspace: str | None = None) -> None:
    session = get_session()
    for statement in schema_statements(keyspace):
        session.execute(statement, timeout=60)
    # A keyspace made before events_by_hour existed: copy its entries in (once).
    CassandraLogManager(keyspace, session=session).backfill_hours()


class Command(BaseCommand):
    help = "Create the Cassandra keyspace and event-log tables (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--keyspace", default=None, help="default: CASSANDRA_KEYSPACE")

    def handle(self, *args, keyspace=None, **options):
        init_cassandra(keyspace)
        self.stdout.write(f"keyspace {keyspace or settings.CASSANDRA_KEYSPACE} ready")
