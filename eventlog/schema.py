"""The event log's Cassandra schema (time-series: partition by type and UTC day, and by UTC hour
for every type at once, newest first) and the statements CassandraLogManager runs on it."""

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
        # "Everything in the last hour" (the events page, the home panel): one partition per UTC
        # hour whatever the number of types; written with events_by_type_day, same write time.
        f"""CREATE TABLE IF NOT EXISTS {ks}.events_by_hour (
            hour timestamp, ts timestamp, event_id uuid, event_type text, user_id text,
            metadata text,
            PRIMARY KEY ((hour), ts, event_id)
        ) WITH CLUSTERING ORDER BY (ts DESC, event_id ASC)""",
        # One-off data migrations done on this keyspace (the events_by_hour backfill).
        f"""CREATE TABLE IF NOT EXISTS {ks}.eventlog_migrations (
            name text PRIMARY KEY, done_at timestamp
        )""",
        # The buckets written so far (one small partition), so purges never scan the log.
        f"""CREATE TABLE IF NOT EXISTS {ks}.event_buckets (
            registry text, day date, event_type text,
            PRIMARY KEY ((registry), day, event_type)
        )""",
    ]


# CassandraLogManager's statements, prepared once per session; {ks} is the keyspace (a checked
# identifier, never user input).
COLUMNS = "event_id, event_type, user_id, ts, metadata"
STATEMENTS = {
    "insert_by_type": "INSERT INTO {ks}.events_by_type_day "
    "(event_type, day, ts, event_id, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?) "
    "USING TIMESTAMP ?",
    "insert_by_id": "INSERT INTO {ks}.events_by_id "
    "(event_id, event_type, day, ts, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?) "
    "USING TIMESTAMP ?",
    "edit_by_type": "INSERT INTO {ks}.events_by_type_day "
    "(event_type, day, ts, event_id, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?)",
    "edit_by_id": "INSERT INTO {ks}.events_by_id "
    "(event_id, event_type, day, ts, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?)",
    "insert_by_hour": "INSERT INTO {ks}.events_by_hour "
    "(hour, ts, event_id, event_type, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?) "
    "USING TIMESTAMP ?",
    "edit_by_hour": "INSERT INTO {ks}.events_by_hour "
    "(hour, ts, event_id, event_type, user_id, metadata) VALUES (?, ?, ?, ?, ?, ?)",
    # Paged by the driver (fetch_size): a reader stops after the rows it needs.
    "hour_window": "SELECT {cols} FROM {ks}.events_by_hour WHERE hour = ? AND ts >= ?",
    "hour_window_before": "SELECT {cols} FROM {ks}.events_by_hour "
    "WHERE hour = ? AND ts >= ? AND ts < ?",
    "hour_tie": "SELECT {cols} FROM {ks}.events_by_hour WHERE hour = ? AND ts = ? AND event_id > ?",
    "hour_all": "SELECT {cols} FROM {ks}.events_by_hour WHERE hour = ?",
    "delete_hour": "DELETE FROM {ks}.events_by_hour WHERE hour = ?",
    "delete_hour_before": "DELETE FROM {ks}.events_by_hour WHERE hour = ? AND ts < ?",
    "bucket_rows": "SELECT {cols} FROM {ks}.events_by_type_day WHERE event_type = ? AND day = ?",
    "buckets_all": "SELECT day, event_type FROM {ks}.event_buckets WHERE registry = ?",
    "migration_get": "SELECT done_at FROM {ks}.eventlog_migrations WHERE name = ?",
    "migration_set": "INSERT INTO {ks}.eventlog_migrations (name, done_at) VALUES (?, ?)",
    "register": "INSERT INTO {ks}.event_buckets (registry, day, event_type) VALUES (?, ?, ?)",
    "get_by_id": "SELECT {cols} FROM {ks}.events_by_id WHERE event_id = ?",
    "exists_by_type": "SELECT event_id FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts = ? AND event_id = ?",
    "window": "SELECT {cols} FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts >= ? LIMIT ?",
    "window_before": "SELECT {cols} FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts >= ? AND ts < ? LIMIT ?",
    "window_tie": "SELECT {cols} FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts = ? AND event_id > ? LIMIT ?",
    "buckets_between": "SELECT day, event_type FROM {ks}.event_buckets "
    "WHERE registry = ? AND day >= ? AND day <= ?",
    "buckets_before": "SELECT day, event_type FROM {ks}.event_buckets "
    "WHERE registry = ? AND day <= ?",
    "ids_in_bucket": "SELECT event_id FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ?",
    "ids_in_bucket_before": "SELECT event_id FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts < ?",
    "count_bucket": "SELECT COUNT(*) FROM {ks}.events_by_type_day WHERE event_type = ? AND day = ?",
    "count_bucket_before": "SELECT COUNT(*) FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts < ?",
    "delete_by_id": "DELETE FROM {ks}.events_by_id WHERE event_id = ?",
    "delete_bucket": "DELETE FROM {ks}.events_by_type_day WHERE event_type = ? AND day = ?",
    "delete_bucket_before": "DELETE FROM {ks}.events_by_type_day "
    "WHERE event_type = ? AND day = ? AND ts < ?",
    "unregister": "DELETE FROM {ks}.event_buckets "
    "WHERE registry = ? AND day = ? AND event_type = ?",
}
