"""backup_mongo / restore_mongo with the real tools: round trip, retention, failures, refusals."""

import gzip
import json
import os
import time

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from backups import repository, selectors, services, tools
from backups.archive import read_archive
from backups.exceptions import BackupError

from .conftest import good_backups, index_names, manage, seed, snapshot

BAD_URI = "mongodb://backupuser:s3cret-Pa55@127.0.0.1:1/?serverSelectionTimeoutMS=500"


def backup() -> str:
    return services.backup_run()["name"]


def test_round_trip_restores_every_document(mongo, backup_dir, redis_client):
    seed(mongo)
    mongo.settings_kv.insert_one({"_id": "empty-later", "value": [1, 2, 3]})
    before, indexes_before = snapshot(mongo), index_names(mongo)
    assert "customer_created_at" in indexes_before["orders"]

    result = manage("backup_mongo")
    assert result.returncode == 0, result.stderr
    (name,) = good_backups()
    assert f"backup {name} ok" in result.stdout

    # Change, delete and add data, drop a collection.
    mongo.orders.update_many({}, {"$set": {"customer": "changed"}})
    mongo.orders.delete_many({"quantity": 1})
    mongo.products.insert_one({"name": "new since the backup"})
    mongo.drop_collection("settings_kv")
    assert snapshot(mongo) != before

    result = manage("restore_mongo", name)
    assert result.returncode == 0, result.stderr
    assert snapshot(mongo) == before
    assert index_names(mongo) == indexes_before
    status = selectors.restore_status()
    assert status["status"] == "ok" and status["name"] == name


def test_manifest_describes_the_archive(mongo, backup_dir, redis_client):
    seed(mongo, orders=12, products=3)
    manifest = services.backup_run()
    name = manifest["name"]
    on_disk = json.loads(repository.manifest_path(name).read_text())
    archive = repository.archive_path(name)
    assert on_disk["status"] == "ok"
    assert on_disk["collections"] == {"orders": 12, "products": 3}
    assert on_disk["size_bytes"] == archive.stat().st_size
    assert archive.stat().st_mode & 0o077 == 0  # not readable by other users
    assert on_disk["sha256"] == repository.file_sha256(archive)
    assert on_disk["mongodump_version"] == "100.10.0" or on_disk["mongodump_version"]
    assert on_disk["created_at"].endswith("Z") and on_disk["finished_at"].endswith("Z")
    assert on_disk["database"] == mongo.name
    # A gzipped mongodump archive, readable end to end.
    with gzip.open(archive) as handle:
        assert handle.read(4) == bytes.fromhex("6de29981")
    assert read_archive(archive).counts == {"orders": 12, "products": 3}
    events = [json.loads(e[1]["event"]) for e in redis_client.xrange("eventlog:outbox")]
    assert any(e["event_type"] == "backup_completed" and name in e["metadata"] for e in events), (
        events
    )


def test_retention_keeps_the_newest(mongo, backup_dir, settings, redis_client):
    settings.BACKUP_RETENTION = 24
    seed(mongo, orders=3, products=1)
    names = [backup() for _ in range(26)]
    assert names == sorted(names) and len(set(names)) == 26
    assert good_backups() == sorted(names[2:], reverse=True)
    for gone in names[:2]:
        assert not repository.archive_path(gone).exists()
        assert not repository.manifest_path(gone).exists()
    assert sorted(p.name for p in backup_dir.glob("*.archive.gz")) == [
        f"{n}.archive.gz" for n in names[2:]
    ]

    # A failed run deletes nothing.
    settings.MONGODB_URI = BAD_URI
    with pytest.raises(CommandError):
        call_command("backup_mongo")
    assert good_backups() == sorted(names[2:], reverse=True)


def test_failed_run_exits_non_zero_keeps_backups_and_hides_credentials(
    mongo, backup_dir, settings, redis_client
):
    settings.BACKUP_RETENTION = 2
    seed(mongo, orders=3, products=1)
    kept = [backup(), backup()]

    result = manage("backup_mongo", env={"MONGODB_URI": BAD_URI})
    assert result.returncode != 0
    assert "backup failed" in result.stderr
    assert "s3cret-Pa55" not in result.stderr + result.stdout

    assert good_backups() == sorted(kept, reverse=True)
    failed = [b for b in selectors.backup_list() if b["status"] == "failed"]
    assert len(failed) == 1 and "mongodump exited with status" in failed[0]["error"]
    for path in backup_dir.iterdir():
        if path.is_file():
            assert "s3cret-Pa55" not in path.read_text(errors="replace"), path
    manifest = json.loads(repository.manifest_path(failed[0]["name"]).read_text())
    assert manifest["server"] == "mongodb://***@127.0.0.1:1/"
    assert not list(backup_dir.glob(".*.tmp")) and not list(backup_dir.glob("*.archive.gz.*"))
    events = [json.loads(e[1]["event"]) for e in redis_client.xrange("eventlog:outbox")]
    failed_events = [e for e in events if e["event_type"] == "backup_failed"]
    assert len(failed_events) == 1 and "s3cret" not in failed_events[0]["metadata"]

    # The next good run prunes by retention, failed records older than the kept ones included.
    newest = backup()
    assert good_backups() == [newest, kept[1]]


def test_redaction_of_uris_and_text():
    uri = "mongodb://u%40x:p%2Fw@h1:27017,h2:27018/shop?authSource=admin&tlsCertificateKeyFilePassword=k3y"
    assert tools.redact_uri(uri) == "mongodb://***@h1:27017,h2:27018/shop"
    text = tools.redact(f"failed to connect to {uri}; password p/w and p%2Fw and k3y", uri)
    assert "p/w" not in text and "p%2Fw" not in text and "k3y" not in text and "u%40x" not in text
    echoed = tools.redact("failed to connect to mongodb://someone:other@db:1/?x=1", uri)
    assert echoed == "failed to connect to mongodb://***@db:1/?x=1"


def _corrupt_copy_refused(mongo, name, expected: str):
    before = snapshot(mongo)
    with pytest.raises(CommandError) as info:
        call_command("restore_mongo", name)
    assert expected in str(info.value)
    assert "restore refused" in str(info.value)
    assert snapshot(mongo) == before  # nothing was touched


def test_truncated_archive_is_refused(mongo, backup_dir, redis_client):
    seed(mongo)
    name = backup()
    mongo.orders.delete_many({})
    path = repository.archive_path(name)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _corrupt_copy_refused(mongo, name, "altered or truncated")
    result = manage("restore_mongo", name)
    assert result.returncode != 0 and "altered or truncated" in result.stderr


def test_altered_archive_is_refused(mongo, backup_dir, redis_client):
    seed(mongo)
    name = backup()
    path = repository.archive_path(name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    _corrupt_copy_refused(mongo, name, "sha256 checksum does not match")


def test_truncated_archive_with_a_matching_manifest_is_refused(mongo, backup_dir, redis_client):
    """Even if the manifest were rewritten to match, an archive cut short is incomplete."""
    seed(mongo)
    name = backup()
    path = repository.archive_path(name)
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) - 200]))
    manifest = json.loads(repository.manifest_path(name).read_text())
    manifest.update(size_bytes=path.stat().st_size, sha256=repository.file_sha256(path))
    repository.manifest_path(name).write_text(json.dumps(manifest))
    _corrupt_copy_refused(mongo, name, "is unusable: archive is")


def test_unknown_failed_and_missing_backups_are_refused(mongo, backup_dir, settings, redis_client):
    with pytest.raises(CommandError, match="no backup named"):
        call_command("restore_mongo", "mongo-20260101-000000-000")
    with pytest.raises(CommandError, match="no backup named"):
        call_command("restore_mongo", "../../etc/passwd")
    settings.MONGODB_URI = BAD_URI
    with pytest.raises(BackupError):
        backup()
    (failed,) = repository.manifest_names()
    with pytest.raises(CommandError, match="is not complete .status failed"):
        call_command("restore_mongo", failed)
    settings.MONGODB_URI = os.environ.get("MONGODB_URI", django_settings.MONGODB_URI)


def test_missing_archive_is_refused(mongo, backup_dir, redis_client):
    seed(mongo, orders=2, products=1)
    name = backup()
    repository.archive_path(name).unlink()
    assert selectors.backup_get(name=name)["status"] == "failed"
    with pytest.raises(CommandError, match="archive file is missing"):
        call_command("restore_mongo", name)


def test_restore_into_another_database_name(mongo, backup_dir, settings, redis_client):
    """A backup taken from one database restores into the configured one (nsFrom/nsTo)."""
    seed(mongo, orders=4, products=2)
    before = snapshot(mongo)
    name = backup()
    source = settings.MONGODB_DB
    settings.MONGODB_DB = f"{source}_other"
    try:
        services.restore_run(name=name)
        from shopsite.mongo import get_db

        assert snapshot(get_db()) == before
    finally:
        from shopsite.mongo import get_client

        get_client().drop_database(settings.MONGODB_DB)
        settings.MONGODB_DB = source


def test_a_tool_that_hangs_is_killed_and_the_backup_fails(
    mongo, backup_dir, settings, tmp_path, redis_client
):
    hang = tmp_path / "mongodump"
    hang.write_text("#!/bin/sh\necho 'connecting...' >&2\nexec sleep 60\n")
    hang.chmod(0o755)
    settings.MONGODUMP_BIN = str(hang)
    settings.BACKUP_TIMEOUT_SECONDS = 1
    started = time.monotonic()
    with pytest.raises(BackupError, match="timed out after 1"):
        services.backup_run()
    assert time.monotonic() - started < 20
    (failed,) = selectors.backup_list()
    assert failed["status"] == "failed" and "timed out" in failed["error"]
    assert not list(backup_dir.glob(".*.tmp"))
