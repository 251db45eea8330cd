"""The event log's Cassandra schema (time-series: partition by type and UTC day, newest first)."""

from django.conf import settings


def schema_statements(keyspace: str | None = None, replication: str | None = None) -> list[str]:
    ks = keyspace or settings.CASSANDRA_KEYSPACE
    repl = replication or settings.CASSANDRA_REPLICATION
    return [
        f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {repl}",
        # "type X in the last N hours" reads only the day buckets the window touches.
        f"""CREATE TABLE IF NOT EXISTS {ks}.events_by_type_day (
            event_type text, day date, ts timestamp, event_id uuid, user_id text, metadata text,
            PRIMARY KEY ((event_type, day), ts, event_id)
        ) WITH CLUSTERING ORDER BY (ts DESC, event_id ASC)""",
        # PUT /logs/{event_id} finds the row here.
        f"""CREATE TABLE IF NOT EXISTS {ks}.events_by_id (
            event_id uuid PRIMARY KEY, event_type text, day date, ts timestamp,
            user_id text, metadata text
        )""",
        # The buckets written so far (one small partition), so purges never scan the log.
        f"""CREATE TABLE IF NOT EXISTS {ks}.event_buckets (
            registry text, day date, event_type text,
            PRIMARY KEY ((registry), day, event_type)
        )""",
    ]
