"""Two or more backup_mongo runs at once: they take turns on the directory lock, and no archive is
corrupt or left under a temporary name."""

import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command

from backups import repository, selectors, services
from backups.archive import read_archive

from .conftest import ROOT, good_backups, seed, wait_for


def test_concurrent_runs_produce_complete_archives(mongo, backup_dir, redis_client):
    seed(mongo, orders=300, products=10)
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "backup_mongo"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    names = good_backups()
    assert len(names) == 4
    for name in names:
        manifest = repository.manifest_read(name)
        path = repository.archive_path(name)
        assert manifest["sha256"] == repository.file_sha256(path)
        assert read_archive(path).counts == {"orders": 300, "products": 10}
        services.backup_verify(name=name)
    # Only finished archives and manifests: nothing half-written or half-named.
    leftovers = sorted(
        p.name
        for p in backup_dir.iterdir()
        if p.name != repository.LOCK_FILE
        and not any(p.name == f"{n}{suffix}" for n in names for suffix in (".json", ".archive.gz"))
    )
    assert leftovers == []


def test_second_run_waits_for_the_lock(mongo, backup_dir, redis_client):
    seed(mongo, orders=5, products=1)
    with repository.directory_lock(5):
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "backup_mongo"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        name = wait_for(lambda: repository.manifest_names(), timeout=30)[0]
        time.sleep(1.5)
        # Still waiting: running, no archive yet, not even a temporary one.
        assert selectors.backup_get(name=name)["status"] == "running"
        assert not repository.archive_path(name).exists()
        assert not repository.temp_archive_path(name).exists()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert selectors.backup_get(name=name)["status"] == "ok"


def test_run_gives_up_when_the_lock_is_held_too_long(mongo, backup_dir, settings, redis_client):
    settings.BACKUP_LOCK_WAIT_SECONDS = 0.5
    with repository.directory_lock(5), pytest.raises(CommandError) as info:
        call_command("backup_mongo")
    assert "another backup or restore held the lock" in str(info.value)
    (failed,) = selectors.backup_list()
    assert failed["status"] == "failed" and "held the lock" in failed["error"]


def test_leftover_temp_file_of_a_crashed_run_is_removed(mongo, backup_dir, redis_client):
    seed(mongo, orders=2, products=1)
    stale = backup_dir / ".mongo-20260101-000000-000.archive.gz.tmp"
    stale.write_bytes(b"half an archive")
    services.backup_run()
    assert not stale.exists()
    assert len(good_backups()) == 1


def test_dead_running_backup_is_reported_failed(backup_dir):
    """A run killed mid-way (its pid gone) is not shown as running forever."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    name = "mongo-20260101-000000-000"
    repository.manifest_write(
        name,
        {
            "status": "running",
            "created_at": "2026-01-01T00:00:00Z",
            "pid": process.pid,
            "host": repository.host_id(),
        },
    )
    backup = selectors.backup_get(name=name)
    assert backup["status"] == "failed" and "ended before finishing" in backup["error"]
