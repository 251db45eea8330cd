"""Reads other apps rely on: the newest good backup (home page and /healthz warn on its age)."""

from datetime import timedelta

from backups import repository, selectors
from shopsite.timeutil import iso, utcnow

from .conftest import seed


def _record(moment, status: str, *, archive: bool) -> str:
    name = repository.name_for(moment)
    repository.manifest_write(
        name,
        {
            "status": status,
            "created_at": iso(moment),
            "finished_at": iso(moment + timedelta(seconds=5)),
            "pid": None,
        },
    )
    if archive:
        repository.archive_path(name).write_bytes(b"not read by this selector")
    return name


def test_newest_good_is_none_without_backups(backup_dir):
    assert selectors.backup_newest_good() is None


def test_newest_good_skips_failed_running_and_vanished_backups(backup_dir):
    now = utcnow()
    good = _record(now - timedelta(hours=3), "ok", archive=True)
    _record(now - timedelta(hours=2), "ok", archive=False)  # archive deleted by hand
    _record(now - timedelta(hours=1), "failed", archive=False)
    _record(now - timedelta(seconds=10), "running", archive=False)

    newest = selectors.backup_newest_good()
    assert newest["name"] == good
    assert newest["created_at"] == iso(now - timedelta(hours=3))
    assert newest["finished_at"] == iso(now - timedelta(hours=3) + timedelta(seconds=5))
    assert 3 * 3600 <= newest["age_seconds"] <= 3 * 3600 + 60


def test_newest_good_after_a_real_backup(mongo, backup_dir, redis_client):
    from backups import services

    seed(mongo, orders=2, products=1)
    first = services.backup_run()["name"]
    assert selectors.backup_newest_good()["name"] == first
    second = services.backup_run()["name"]
    newest = selectors.backup_newest_good()
    assert newest["name"] == second and 0 <= newest["age_seconds"] < 120
